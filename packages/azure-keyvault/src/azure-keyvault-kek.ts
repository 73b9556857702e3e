import { constants, publicEncrypt } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import type { CryptographyClientOptions, KeyVaultKey } from "@azure/keyvault-keys";
import { EnvelopeError, type KeyEncryptionKey, throwIfAborted } from "@kms-envelope/core";
import { loadDefaultCredential } from "./credential.js";
import { toKeyVaultError } from "./errors.js";
import { createKeyCache } from "./key-cache.js";
import { type KeyVaultKeyId, parseKeyId, tryParseKeyId } from "./key-id.js";

export const AZURE_KEYVAULT_PROVIDER = "azure-keyvault";

/** RSA keys wrap with RSA-OAEP-256; Managed HSM AES keys (oct-HSM) with A256KW (RFC 3394). */
export type AzureWrapAlgorithm = "RSA-OAEP-256" | "A256KW";

export interface AzureKeyVaultKekOptions {
  /** https://<vault>.vault.azure.net/keys/<name>[/<version>] (or …managedhsm.azure.net…). */
  keyId: string;
  /** Any `TokenCredential`; when absent, `DefaultAzureCredential` from @azure/identity (loaded on first use). */
  credential?: TokenCredential | undefined;
  /** Passed to the SDK's KeyClient and CryptographyClient: retryOptions, tlsOptions, proxyOptions, httpClient, … */
  clientOptions?: CryptographyClientOptions | undefined;
  /** Default: from the key's type (RSA, RSA-HSM → RSA-OAEP-256; oct, oct-HSM → A256KW). */
  algorithm?: AzureWrapAlgorithm | undefined;
  /**
   * Wrap with the cached public key instead of calling the service (RSA only):
   * one keys/get, then no service call per encrypt. Unwrap always calls Key Vault.
   */
  wrapLocally?: boolean | undefined;
  /** How long a key read (its current version, attributes, public key) is trusted. Default 5 minutes. */
  keyCacheMs?: number | undefined;
}

const DEFAULT_KEY_CACHE_MS = 5 * 60_000;
const A256KW_WRAPPED_LENGTH = 40;
const DEK_LENGTH = 32;

/** The SDK's `abortSignal` option, absent rather than undefined (exactOptionalPropertyTypes). */
const abortOption = (signal: AbortSignal | undefined) =>
  signal === undefined ? {} : { abortSignal: signal };

/**
 * A KEK in Azure Key Vault or Managed HSM. The envelope records the full
 * versioned kid of the key version that wrapped, and unwrap calls exactly
 * that version, so rotating the key never strands old envelopes.
 */
export function createAzureKeyVaultKek(options: AzureKeyVaultKekOptions): KeyEncryptionKey {
  const configured = parseKeyId(options.keyId);
  const keyCacheMs = options.keyCacheMs ?? DEFAULT_KEY_CACHE_MS;
  if (!(keyCacheMs >= 0)) throw new EnvelopeError("INVALID_ARGUMENT", "keyCacheMs must be a number >= 0");
  if (
    options.algorithm !== undefined &&
    options.algorithm !== "RSA-OAEP-256" &&
    options.algorithm !== "A256KW"
  ) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `unsupported Key Vault wrap algorithm "${String(options.algorithm)}"`,
    );
  }
  let credential: Promise<TokenCredential> | undefined;
  const getCredential = () => {
    credential ??=
      options.credential === undefined ? loadDefaultCredential() : Promise.resolve(options.credential);
    // A failed load (no @azure/identity) is retried on the next call rather than remembered.
    credential.catch(() => {
      credential = undefined;
    });
    return credential;
  };
  const keys = createKeyCache({
    keyId: configured,
    credential: getCredential,
    clientOptions: options.clientOptions ?? {},
    ttlMs: keyCacheMs,
  });

  function algorithmFor(key: KeyVaultKey): AzureWrapAlgorithm {
    if (options.algorithm !== undefined) return options.algorithm;
    if (key.keyType === "RSA" || key.keyType === "RSA-HSM") return "RSA-OAEP-256";
    if (key.keyType === "oct" || key.keyType === "oct-HSM") return "A256KW";
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `Key Vault key ${key.id} has type ${key.keyType}, which cannot wrap keys`,
    );
  }

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

  function expectedWrappedLength(key: KeyVaultKey, algorithm: AzureWrapAlgorithm): number | undefined {
    if (algorithm === "A256KW") return A256KW_WRAPPED_LENGTH;
    return key.key?.n === undefined ? undefined : key.key.n.length;
  }

  function checkEntryKeyId(entryKeyId: string): KeyVaultKeyId {
    const parsed = tryParseKeyId(entryKeyId);
    const sameKey = parsed !== undefined && parsed.unversioned === configured.unversioned;
    if (!sameKey || (configured.version !== undefined && parsed.version !== configured.version)) {
      throw new EnvelopeError(
        "KEY_ID_MISMATCH",
        `entry was wrapped by ${entryKeyId}, not by ${configured.id}`,
      );
    }
    return parsed;
  }

  const kek: KeyEncryptionKey = {
    provider: AZURE_KEYVAULT_PROVIDER,
    keyId: configured.id,

    async wrap(dek, _context, callOptions) {
      // Key Vault's wrap takes no AAD: the context is bound by the envelope's header tag and commitment.
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const { key, crypto: cryptoClient, publicKey } = await keys.read(configured.version ?? "", signal);
      const keyId = key.id ?? configured.id;
      const algorithm = algorithmFor(key);
      let wrapped: Uint8Array;
      if (options.wrapLocally === true) {
        if (publicKey === undefined || algorithm !== "RSA-OAEP-256") {
          throw new EnvelopeError(
            "INVALID_ARGUMENT",
            `wrapLocally needs an RSA key; ${keyId} wraps with ${algorithm}`,
          );
        }
        checkUsable(key);
        // RSA-OAEP-256 with the public JWK: the same construction as the service's wrapkey.
        const padding = constants.RSA_PKCS1_OAEP_PADDING;
        wrapped = publicEncrypt({ key: publicKey, padding, oaepHash: "sha256" }, dek);
      } else {
        try {
          const result = await cryptoClient.wrapKey(algorithm, dek, abortOption(signal));
          if (result.keyID !== undefined && result.keyID !== keyId) {
            throw new EnvelopeError("KMS_INTEGRITY", `Key Vault wrapped with ${result.keyID}, not ${keyId}`);
          }
          wrapped = result.result;
        } catch (error) {
          throw toKeyVaultError(error, "wrap", keyId);
        }
      }
      const expected = expectedWrappedLength(key, algorithm);
      if (expected !== undefined && wrapped.length !== expected) {
        throw new EnvelopeError(
          "KMS_INTEGRITY",
          `Key Vault returned ${wrapped.length} wrapped bytes for ${keyId}`,
        );
      }
      return { keyId, wrapped };
    },

    async unwrap(entry, _context, callOptions) {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const entryKey = checkEntryKeyId(entry.keyId);
      // Exactly the recorded version: never "the current one", which rotation changes.
      const { key, crypto: cryptoClient } = await keys.read(entryKey.version ?? "", signal);
      const keyId = key.id ?? entryKey.id;
      const algorithm = algorithmFor(key);
      const expected = expectedWrappedLength(key, algorithm);
      if (expected !== undefined && entry.wrapped.length !== expected) {
        throw new EnvelopeError("MALFORMED", `wrapped key for ${keyId} has the wrong length`);
      }
      let dek: Uint8Array;
      try {
        dek = (await cryptoClient.unwrapKey(algorithm, entry.wrapped, abortOption(signal))).result;
      } catch (error) {
        throw toKeyVaultError(error, "unwrap", keyId);
      }
      if (dek.length !== DEK_LENGTH) {
        dek.fill(0);
        throw new EnvelopeError("TAMPERED", `the key Key Vault unwrapped with ${keyId} is not a data key`);
      }
      return dek;
    },

    matches(entry) {
      if (entry.provider !== AZURE_KEYVAULT_PROVIDER) return false;
      const parsed = tryParseKeyId(entry.keyId);
      if (parsed === undefined || parsed.unversioned !== configured.unversioned) return false;
      // An unversioned configured key accepts all its versions; a versioned one only itself.
      return configured.version === undefined || parsed.version === configured.version;
    },
  };
  return Object.freeze(kek);
}
