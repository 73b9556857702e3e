import { readFile } from "node:fs/promises";
import type { TokenCredential } from "@azure/core-auth";
import type { CryptographyClientOptions, KeyVaultKey } from "@azure/keyvault-keys";
import {
  abortSignalOption,
  checkClientSettings,
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  createKmsCaller,
  createPromiseCache,
  EnvelopeError,
  type KeyEncryptionKey,
  rsaOaepWrap,
  throwIfAborted,
} from "@kms-envelope/core";
import { AZURE_CREDENTIAL_KINDS, type AzureCredentialKind, loadCredential } from "./credential.js";
import { keyVaultErrors } from "./errors.js";
import { createKeyCache } from "./key-cache.js";
import { parseKeyId, sameKey, tryParseKeyId } from "./key-id.js";

export const AZURE_KEYVAULT_PROVIDER = "azure-keyvault";

/** RSA keys wrap with RSA-OAEP-256; Managed HSM AES keys (oct-HSM) with A256KW (RFC 3394). */
export type AzureWrapAlgorithm = "RSA-OAEP-256" | "A256KW";
export const AZURE_WRAP_ALGORITHMS: readonly AzureWrapAlgorithm[] = ["RSA-OAEP-256", "A256KW"];

export interface AzureKeyVaultKekOptions {
  /** https://<vault>.vault.azure.net/keys/<name>[/<version>] (or …managedhsm.azure.net…). */
  keyId: string;
  /**
   * A `TokenCredential`, or the name of an @azure/identity credential to create
   * ("default" | "cli" | "managed-identity" | "environment"). Default: "default"
   * (`DefaultAzureCredential`, loaded on first use).
   */
  credential?: TokenCredential | AzureCredentialKind | undefined;
  /** The tenant a "default" or "cli" credential signs in to. */
  tenantId?: string | undefined;
  /** A PEM file of certificates to trust for the vault's TLS (a private CA, an emulator). */
  caFile?: string | undefined;
  /** A static bearer token an emulator accepts; refused unless the vault is loopback. */
  insecureTestCredentials?: boolean | undefined;
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
const SERVICE = "Key Vault";
const call = createKmsCaller({ service: SERVICE, classify: keyVaultErrors });

/**
 * A KEK in Azure Key Vault or Managed HSM. The envelope records the full
 * versioned kid of the key version that wrapped, and unwrap calls exactly
 * that version, so rotating the key never strands old envelopes.
 */
export function createAzureKeyVaultKek(options: AzureKeyVaultKekOptions): KeyEncryptionKey {
  const configured = parseKeyId(options?.keyId);
  const keyCacheMs = options.keyCacheMs ?? DEFAULT_KEY_CACHE_MS;
  if (!(keyCacheMs >= 0)) throw new EnvelopeError("INVALID_ARGUMENT", "keyCacheMs must be a number >= 0");
  if (options.algorithm !== undefined && !AZURE_WRAP_ALGORITHMS.includes(options.algorithm)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `unsupported Key Vault wrap algorithm "${String(options.algorithm)}"`,
    );
  }
  const credentialKind = credentialKindOf(options, configured.vaultUrl);
  const credentials = createPromiseCache(() =>
    typeof options.credential === "object"
      ? Promise.resolve(options.credential)
      : loadCredential(credentialKind, options.tenantId),
  );
  const clientOptions = createPromiseCache(async () => {
    const base: CryptographyClientOptions = { ...options.clientOptions };
    // An emulator on 127.0.0.1 answers the bearer challenge for a resource that is not its host.
    if (options.insecureTestCredentials === true) base.disableChallengeResourceVerification = true;
    if (options.caFile === undefined) return base;
    const ca = await readFile(options.caFile, "utf8").catch((error: unknown) => {
      throw new EnvelopeError("INVALID_ARGUMENT", `caFile ${options.caFile} cannot be read`, {
        cause: error,
      });
    });
    return { ...base, tlsOptions: { ...base.tlsOptions, ca } };
  });
  const keys = createKeyCache({
    keyId: configured,
    credential: () => credentials.get(undefined),
    clientOptions: () => clientOptions.get(undefined),
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

  const expectedWrappedLength = (modulusBytes: number | undefined, algorithm: AzureWrapAlgorithm) =>
    algorithm === "A256KW" ? A256KW_WRAPPED_LENGTH : modulusBytes;

  /** Key ownership: this key (any version when unversioned), its name compared case-insensitively. */
  const ours = (_: string, keyId: string) => {
    const parsed = tryParseKeyId(keyId);
    return parsed !== undefined && sameKey(configured, parsed);
  };

  const kek: KeyEncryptionKey = {
    provider: AZURE_KEYVAULT_PROVIDER,
    keyId: configured.id,

    async wrap(dek, _context, callOptions) {
      // Key Vault's wrap takes no AAD: the context is bound by the envelope's header tag and commitment.
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      const read = await keys.read(configured.version ?? "", signal);
      const { key } = read;
      const keyId = key.id ?? configured.id;
      const algorithm = algorithmFor(key);
      let wrapped: Uint8Array;
      if (options.wrapLocally === true) {
        if (read.publicKey === undefined || algorithm !== "RSA-OAEP-256") {
          throw new EnvelopeError(
            "INVALID_ARGUMENT",
            `wrapLocally needs an RSA key; ${keyId} wraps with ${algorithm}`,
          );
        }
        checkUsable(key);
        // RSA-OAEP-256 with the public JWK: the same construction as the service's wrapkey.
        wrapped = rsaOaepWrap(read.publicKey, dek, "sha256");
      } else {
        const result = await call("WrapKey", keyId, signal, (abortSignal) =>
          read.crypto.wrapKey(algorithm, dek, abortSignalOption(abortSignal)),
        );
        if (result.keyID !== undefined) checkReportedKey(SERVICE, "WrapKey", result.keyID, keyId);
        wrapped = result.result;
      }
      const source = options.wrapLocally === true ? "a local RSA-OAEP-256 wrap" : "Key Vault WrapKey";
      const length = expectedWrappedLength(read.modulusBytes, algorithm);
      return { keyId, wrapped: checkWrappedKey(wrapped, `${source} with ${keyId}`, length) };
    },

    async unwrap(entry, _context, callOptions) {
      const signal = callOptions?.signal;
      throwIfAborted(signal);
      checkEntryOwner(kek, entry, ours);
      const entryKey = parseKeyId(entry.keyId);
      // Exactly the recorded version: never "the current one", which rotation changes.
      const read = await keys.read(entryKey.version ?? "", signal);
      const keyId = read.key.id ?? entryKey.id;
      const algorithm = algorithmFor(read.key);
      const expected = expectedWrappedLength(read.modulusBytes, algorithm);
      if (expected !== undefined && entry.wrapped.length !== expected) {
        throw new EnvelopeError("MALFORMED", `wrapped key for ${keyId} has the wrong length`);
      }
      const result = await call("UnwrapKey", keyId, signal, (abortSignal) =>
        read.crypto.unwrapKey(algorithm, entry.wrapped, abortSignalOption(abortSignal)),
      );
      return checkDataKey(result.result, `Key Vault UnwrapKey with ${keyId}`);
    },

    matches: (entry) => entry.provider === AZURE_KEYVAULT_PROVIDER && ours(configured.id, entry.keyId),
  };
  return Object.freeze(kek);
}

/** Which credential to load, refusing combinations that would be silently ignored. */
function credentialKindOf(
  options: AzureKeyVaultKekOptions,
  vaultUrl: string,
): AzureCredentialKind | "insecure-test" {
  const { credential, tenantId, insecureTestCredentials } = options;
  checkClientSettings({ settings: {}, endpoint: vaultUrl, insecureTestCredentials });
  if (insecureTestCredentials === true) {
    if (credential !== undefined || tenantId !== undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", "insecureTestCredentials excludes credential and tenantId");
    }
    return "insecure-test";
  }
  if (typeof credential === "object" && credential !== null) {
    if (tenantId !== undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "tenantId configures a created credential, not the one passed",
      );
    }
    return "default";
  }
  const kind = credential ?? "default";
  if (!AZURE_CREDENTIAL_KINDS.includes(kind)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `credential must be a TokenCredential or one of ${AZURE_CREDENTIAL_KINDS.join(", ")}`,
    );
  }
  if (tenantId !== undefined && kind !== "default" && kind !== "cli") {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `tenantId applies to the "default" and "cli" credentials, not "${kind}"`,
    );
  }
  return kind;
}
