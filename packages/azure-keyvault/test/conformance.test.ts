import { runKekConformance } from "@kms-envelope/conformance";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { afterAll, beforeAll } from "vitest";
import { type AzureKeyVaultKekOptions, createAzureKeyVaultKek } from "../src/index.js";

let emulator: AzureKeyVaultEmulator;
beforeAll(async () => {
  emulator = await startAzureKeyVaultEmulator();
});
afterAll(() => emulator.close());

/** Two distinct keys on the emulator, each opened through the real SDK over HTTPS. */
async function pair(prefix: string, kty: "RSA" | "oct-HSM", extra: Partial<AzureKeyVaultKekOptions> = {}) {
  const kekOf = async (name: string) => {
    const key = await emulator.createKey(name, { kty });
    const common = { credential: emulator.credential, clientOptions: emulator.clientOptions() };
    return createAzureKeyVaultKek({ keyId: key.id, ...common, ...extra });
  };
  const made = Promise.all([kekOf(`${prefix}-a`), kekOf(`${prefix}-b`)]);
  let cached: typeof made | undefined;
  // Keys are made once per variant, on the first test that asks (the emulator starts in beforeAll).
  return async () => {
    cached ??= made;
    const [kek, other] = await cached;
    return { kek, other };
  };
}

const lazy = (prefix: string, kty: "RSA" | "oct-HSM", extra?: Partial<AzureKeyVaultKekOptions>) => {
  let factory: ReturnType<typeof pair> | undefined;
  return async () => (await (factory ??= pair(prefix, kty, extra)))();
};

const capabilities = { abort: true, bindsContext: false };
runKekConformance({ name: "azure-keyvault (RSA)", makeKeks: lazy("rsa", "RSA"), capabilities });
runKekConformance({ name: "azure-keyvault (RSA, wrapLocally)", makeKeks: lazy("local", "RSA", { wrapLocally: true }), capabilities });
runKekConformance({ name: "azure-keyvault (oct-HSM, A256KW)", makeKeks: lazy("hsm", "oct-HSM"), capabilities });
