import type { KeyVaultKey } from "@azure/keyvault-keys";
import {
  abortSignalOption,
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  createKmsCaller,
  EnvelopeError,
  type KeyEncryptionKey,
  rsaOaepWrap,
  throwIfAborted,
} from "@kms-envelope/core";
import { azureKeyVaultErrors } from "./errors.js";
import { createKeyCache } from "./key-cache.js";
import { type KeyVaultKeyId, parseKeyId, sameKey } from "./key-id.js";
import { AZURE_WRAP_ALGORITHMS, type AzureKeyVaultKekOptions } from "./options.js";

export const AZURE_KEYVAULT_PROVIDER = "azure-keyvault";

const SERVICE = "Key Vault";
const call = createKmsCaller({ service: SERVICE, classify: azureKeyVaultErrors });

/** What the service would refuse anyway; checked before a local wrap so no envelope is made that cannot open. */
function checkUsable(key: KeyVaultKey): void {
  const { enabled, expiresOn, notBefore } = key.properties;
  const now = new Date();
  if (enabled === false) throw new EnvelopeError("KEY_DISABLED", `Key Vault key ${key.id} is disabled`);
  if ((expiresOn !== undefined && now > expiresOn) || (notBefore !== undefined && now < notBefore)) {
    throw new EnvelopeError("KEY_DISABLED", `Key Vault key ${key.id} is outside its validity period`);
  }
  if (key.keyOperations !== undefined && !key.keyOperations.includes("wrapKey")) {
    throw new EnvelopeError("KEY_ACCESS_DENIED", `Key Vault key ${key.id} does not permit wrapKey`);
  }
}

/**
 * A KEK in Azure Key Vault or Managed HSM. The envelope records the full
 * versioned kid of the key version that wrapped, and unwrap calls exactly
 * that version, so rotating the key never strands old envelopes.
 */
export function createAzureKeyVaultKek(options: AzureKeyVaultKekOptions): KeyEncryptionKey {
  const configured = parseKeyId(options?.keyId);
  const { algorithm } = options;
  if (algorithm !== undefined && !AZURE_WRAP_ALGORITHMS.includes(algorithm)) {
    throw new EnvelopeError("INVALID_ARGUMENT", `unsupported Key Vault algorithm "${String(algorithm)}"`);
  }
  const keys = createKeyCache(configured, options);

  /** The key version `id` names (its current one when unversioned), how it wraps, and its wrapped length. */
  async function keyAt(id: KeyVaultKeyId, signal: AbortSignal | undefined) {
    const read = await keys.get(id.version ?? "", signal);
    const { id: keyId = id.id, keyType } = read.key;
    const rsa = keyType === "RSA" || keyType === "RSA-HSM";
    const aes = keyType === "oct" || keyType === "oct-HSM";
    const wrapAlgorithm = algorithm ?? (rsa ? "RSA-OAEP-256" : aes ? "A256KW" : undefined);
    if (wrapAlgorithm === undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${keyId} is a ${keyType} key, which cannot wrap keys`);
    }
    // A256KW (RFC 3394) wraps 32 bytes into 40; RSA into the modulus length.
    const length = wrapAlgorithm === "A256KW" ? 40 : read.modulusBytes;
    return { ...read, keyId, algorithm: wrapAlgorithm, length };
  }

  /** Key ownership: this key (any version when unversioned), its name compared case-insensitively. */
  const ours = (_: string, keyId: string) => sameKey(configured, keyId);

  const kek: KeyEncryptionKey = {
    provider: AZURE_KEYVAULT_PROVIDER,
    keyId: configured.id,

    async wrap(dek, _context, callOptions) {
      // Key Vault's wrap takes no AAD: the context is bound by the envelope's header tag and commitment.
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const { key, keyId, crypto, publicKey, algorithm, length } = await keyAt(configured, signal);
      if (options.wrapLocally !== true) {
        const result = await call("WrapKey", keyId, signal, (abortSignal) =>
          crypto.wrapKey(algorithm, dek, abortSignalOption(abortSignal)),
        );
        if (result.keyID !== undefined) checkReportedKey(SERVICE, "WrapKey", result.keyID, keyId);
        return { keyId, wrapped: checkWrappedKey(result.result, `Key Vault WrapKey with ${keyId}`, length) };
      }
      if (publicKey === undefined || algorithm !== "RSA-OAEP-256") {
        throw new EnvelopeError(
          "INVALID_ARGUMENT",
          `wrapLocally needs an RSA key; ${keyId} wraps with ${algorithm}`,
        );
      }
      checkUsable(key);
      // RSA-OAEP-256 with the public JWK: the same construction as the service's wrapkey.
      const wrapped = rsaOaepWrap(publicKey, dek, "sha256");
      return { keyId, wrapped: checkWrappedKey(wrapped, `a local RSA-OAEP-256 wrap with ${keyId}`, length) };
    },

    async unwrap(entry, _context, callOptions) {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      checkEntryOwner(kek, entry, ours);
      // Exactly the recorded version: never "the current one", which rotation changes.
      const { keyId, crypto, algorithm, length } = await keyAt(parseKeyId(entry.keyId), signal);
      if (length !== undefined && entry.wrapped.length !== length) {
        throw new EnvelopeError("MALFORMED", `wrapped key for ${keyId} has the wrong length`);
      }
      const result = await call("UnwrapKey", keyId, signal, (abortSignal) =>
        crypto.unwrapKey(algorithm, entry.wrapped, abortSignalOption(abortSignal)),
      );
      return checkDataKey(result.result, `Key Vault UnwrapKey with ${keyId}`);
    },

    matches: (entry) => entry.provider === AZURE_KEYVAULT_PROVIDER && ours(configured.id, entry.keyId),
  };
  return Object.freeze(kek);
}
