import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    testTimeout: 30_000,
    // RFC 3394 key wrap (A256KW, the only wrap Managed HSM AES keys offer) is deterministic by
    // definition, so this one conformance check cannot hold for oct-HSM keys; the conformance kit has
    // no capability flag for it yet. azure-keyvault.test.ts pins the deterministic behaviour instead.
    testNamePattern: /^(?!.*\(oct-HSM, A256KW\).*wrapping the same DEK twice gives different wrapped keys)/,
  },
});
