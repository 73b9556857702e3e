import { runKekConformance } from "@kms-envelope/conformance";
import type { KeyEncryptionKey } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll } from "vitest";
import { createAwsKmsKek } from "../src/index.js";

// The whole conformance suite through the real KMSClient over loopback HTTP,
// once for symmetric keys and once for RSA keys (local wrap, KMS Decrypt).
let emulator: AwsKmsEmulator;
let symmetric: { kek: KeyEncryptionKey; other: KeyEncryptionKey };
let rsa: { kek: KeyEncryptionKey; other: KeyEncryptionKey };

beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
  const client = emulator.client();
  const kek = (keyId: string, encryptionAlgorithm?: "RSAES_OAEP_SHA_256") =>
    createAwsKmsKek({ keyId, client, encryptionAlgorithm });
  symmetric = { kek: kek(emulator.createKey().arn), other: kek(emulator.createKey().arn) };
  rsa = {
    kek: kek(emulator.createKey({ keySpec: "RSA_2048" }).arn, "RSAES_OAEP_SHA_256"),
    other: kek(emulator.createKey({ keySpec: "RSA_3072" }).arn, "RSAES_OAEP_SHA_256"),
  };
});
afterAll(() => emulator.close());

runKekConformance({
  name: "aws-kms",
  makeKeks: () => symmetric,
  capabilities: {
    abort: true,
    bindsContext: true,
    generateDataKey: true,
    // A symmetric AWS ciphertext blob names its key: KMS refuses another key's blob with
    // IncorrectKeyException before trying to decrypt it.
    unwrapCodes: { foreignKey: "KEY_ID_MISMATCH" },
  },
});
// The RSA path binds the context by a digest inside the RSA-wrapped value (rsa-wrap.ts).
runKekConformance({
  name: "aws-kms (RSA)",
  makeKeks: () => rsa,
  capabilities: { abort: true, bindsContext: true },
});
