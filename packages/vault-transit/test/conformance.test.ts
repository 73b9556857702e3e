import { runKekConformance } from "@kms-envelope/conformance";
import type { KeyEncryptionKey } from "@kms-envelope/core";
import {
  type CreateTransitKeyOptions,
  startVaultTransitEmulator,
  type VaultTransitEmulator,
} from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll } from "vitest";
import { createVaultTransitKek } from "../src/index.js";

let vault: VaultTransitEmulator;
beforeAll(async () => {
  vault = await startVaultTransitEmulator();
});
afterAll(() => vault.close());

/** Two keys of one type on the emulator, each used through its own least-privilege token. */
function variant(prefix: string, key: CreateTransitKeyOptions) {
  let keks: Promise<{ kek: KeyEncryptionKey; other: KeyEncryptionKey }> | undefined;
  const kekOf = async (name: string) => {
    vault.createKey(name, key);
    vault.setPolicy(`use-${name}`, [
      { path: `transit/encrypt/${name}`, capabilities: ["update"] },
      { path: `transit/decrypt/${name}`, capabilities: ["update"] },
      { path: `transit/datakey/plaintext/${name}`, capabilities: ["update"] },
    ]);
    return createVaultTransitKek({
      key: `vault-transit://${vault.hostPort}/transit/keys/${name}`,
      tls: false,
      token: vault.createToken({ policies: [`use-${name}`] }).token,
      keyType: key.type,
      derived: key.derived,
      maxRetries: 0,
    });
  };
  return () => {
    keks ??= Promise.all([kekOf(`${prefix}-a`), kekOf(`${prefix}-b`)]).then(([kek, other]) => ({
      kek,
      other,
    }));
    return keks;
  };
}

/** Wrapped keys have one length per key type, checked before Vault is called: a cut one is MALFORMED. */
const COMMON = { abort: true, unwrapCodes: { wrongLength: "MALFORMED" } } as const;

runKekConformance({
  name: "vault-transit (aes256-gcm96, context as associated_data)",
  makeKeks: variant("aes", { type: "aes256-gcm96" }),
  capabilities: { ...COMMON, bindsContext: true },
});
runKekConformance({
  name: "vault-transit (aes256-gcm96 derived, context as derivation context, datakey)",
  makeKeks: variant("derived", { type: "aes256-gcm96", derived: true }),
  capabilities: { ...COMMON, bindsContext: true, generateDataKey: true },
});
runKekConformance({
  name: "vault-transit (chacha20-poly1305)",
  makeKeks: variant("chacha", { type: "chacha20-poly1305" }),
  capabilities: { ...COMMON, bindsContext: true },
});
runKekConformance({
  name: "vault-transit (rsa-2048, binds no context)",
  makeKeks: variant("rsa", { type: "rsa-2048" }),
  capabilities: { ...COMMON, bindsContext: false, generateDataKey: true },
});
