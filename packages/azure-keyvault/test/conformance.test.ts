import { runKekConformance } from "@kms-envelope/conformance";
import type { KeyEncryptionKey } from "@kms-envelope/core";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { afterAll, beforeAll } from "vitest";
import { type AzureKeyVaultKekOptions, createAzureKeyVaultKek } from "../src/index.js";

let emulator: AzureKeyVaultEmulator;
beforeAll(async () => {
  emulator = await startAzureKeyVaultEmulator();
});
afterAll(() => emulator.close());

/** Two distinct keys on the emulator, made on the first test that asks (the emulator starts in beforeAll). */
function variant(prefix: string, kty: "RSA" | "oct-HSM", extra: Partial<AzureKeyVaultKekOptions> = {}) {
  let keks: Promise<{ kek: KeyEncryptionKey; other: KeyEncryptionKey }> | undefined;
  const kekOf = async (name: string) => {
    const key = await emulator.createKey(name, { kty });
    const common = { credential: emulator.credential, clientOptions: emulator.clientOptions() };
    return createAzureKeyVaultKek({ keyId: key.id, ...common, ...extra });
  };
  return () => {
    keks ??= Promise.all([kekOf(`${prefix}-a`), kekOf(`${prefix}-b`)]).then(([kek, other]) => ({
      kek,
      other,
    }));
    return keks;
  };
}

const capabilities = {
  abort: true,
  bindsContext: false,
  // A Key Vault wrapped key has one length per key (the RSA modulus size, or 40 bytes for
  // A256KW), checked before the call: a shorter one never reaches the vault.
  unwrapCodes: { wrongLength: "MALFORMED" },
} as const;
runKekConformance({ name: "azure-keyvault (RSA)", makeKeks: variant("rsa", "RSA"), capabilities });
runKekConformance({
  name: "azure-keyvault (RSA, wrapLocally)",
  makeKeks: variant("local", "RSA", { wrapLocally: true }),
  capabilities,
});
runKekConformance({
  name: "azure-keyvault (oct-HSM, A256KW)",
  makeKeks: variant("hsm", "oct-HSM"),
  // RFC 3394 key wrap is deterministic by definition.
  capabilities: { ...capabilities, deterministicWrap: true },
});
