import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // Set-ups make RSA keys (up to 4096 bits) in the emulator: seconds on a loaded machine.
    hookTimeout: 60_000,
    setupFiles: ["test/loopback-only.ts"],
  },
});
