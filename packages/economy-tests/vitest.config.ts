import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // No test may look for cloud credentials or a metadata server.
    env: {
      METADATA_SERVER_DETECTION: "none",
      GOOGLE_APPLICATION_CREDENTIALS: "",
      CLOUDSDK_CONFIG: "/nonexistent",
      AWS_EC2_METADATA_DISABLED: "true",
    },
    setupFiles: ["test/loopback-only.ts"],
  },
});
