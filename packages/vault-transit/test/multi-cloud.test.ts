import { randomBytes } from "node:crypto";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createKeyring, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultTransitKek } from "../src/index.js";

let vault: VaultTransitEmulator;
let aws: AwsKmsEmulator;
beforeAll(async () => {
  [vault, aws] = await Promise.all([startVaultTransitEmulator(), startAwsKmsEmulator()]);
});
afterAll(() => Promise.all([vault.close(), aws.close()]));

describe("one envelope, a Vault transit key and an AWS KMS key", () => {
  it("either key alone decrypts it", async () => {
    vault.createKey("dr", { derived: true });
    const transit = createVaultTransitKek({
      key: `vault-transit://${vault.hostPort}/transit/keys/dr`,
      derived: true,
      tls: false,
      token: vault.rootToken,
    });
    const kms = createAwsKmsKek({ keyId: aws.createKey().arn, client: aws.client() });
    const plaintext = randomBytes(5000);
    const context = { app: "orders" };
    const envelope = await encrypt(plaintext, {
      keyring: createKeyring({ primary: transit, extra: [kms] }),
      context,
    });
    expect(inspect(envelope).wrappedKeys.map((entry) => entry.provider)).toEqual([
      "vault-transit",
      "aws-kms",
    ]);
    for (const only of [transit, kms]) {
      const { plaintext: out } = await decrypt(envelope, {
        keyring: createKeyring({ primary: only }),
        expectedContext: context,
      });
      expect(Buffer.from(out).equals(plaintext)).toBe(true);
    }
    expect(vault.calls.count("DataKey")).toBe(1);
    expect(vault.calls.count("Decrypt")).toBe(1);
    expect(aws.calls.count("Decrypt")).toBe(1);
  });
});
