import { randomBytes } from "node:crypto";
import { runKekConformance } from "@kms-envelope/conformance";
import { createLocalKek } from "../src/index.js";

const kek = createLocalKek({ key: randomBytes(32), keyId: "conformance-a" });
const other = createLocalKek({ key: randomBytes(32), keyId: "conformance-b" });

runKekConformance({
  name: "local (in-memory)",
  makeKeks: () => ({ kek, other }),
  capabilities: {
    abort: true,
    bindsContext: true,
    // A local wrapped key is exactly nonce ‖ 32 bytes ‖ tag (60 bytes), checked before decryption.
    unwrapCodes: { wrongLength: "MALFORMED" },
  },
});
