import { defineConfig } from "vitest/config";

// Generous limits: these tests start emulators, spawn processes and run npm installs on a shared CI machine.
export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 180_000,
    hookTimeout: 180_000,
    setupFiles: ["test/loopback-only.ts"],
  },
});
