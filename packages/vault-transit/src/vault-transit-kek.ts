import { readFileSync } from "node:fs";
import {
  canonicalContextBytes,
  checkClientSettings,
  checkDataKey,
  checkEntryOwner,
  createKmsCaller,
  type EncryptionContext,
  EnvelopeError,
  type KeyEncryptionKey,
  readUriParameters,
  type WrappedKeyEntry,
} from "@kms-envelope/core";
import { createTokenSource, type VaultAuthOptions } from "./auth.js";
import { vaultTransitErrors } from "./errors.js";
import {
  parseTransitKeyId,
  TRANSIT_KEY_TYPES,
  type TransitKeyId,
  type TransitKeyType,
  transitKeyVersion,
} from "./key-id.js";
import { createVaultHttp } from "./vault-http.js";

export const VAULT_TRANSIT_PROVIDER = "vault-transit";
const SERVICE = "Vault transit";

export interface VaultTransitKekOptions extends VaultAuthOptions {
  /** "vault-transit://host[:port]/<mount path>/keys/<name>", the same without the scheme, or "hcvault://…". */
  key: string;
  /** Vault Enterprise / OpenBao namespace (default: VAULT_NAMESPACE). Part of the key id. */
  namespace?: string | undefined;
  /** The key's type (default aes256-gcm96): decides how the context is bound. */
  keyType?: TransitKeyType | undefined;
  /** The key was created with `derived=true`: the context goes in `context` (key derivation). */
  derived?: boolean | undefined;
  /** PEM file of the CA that signed Vault's certificate (default: VAULT_CACERT, else the system CAs). */
  caFile?: string | undefined;
  /** The same as PEM text. */
  ca?: string | undefined;
  /** false: plain http://, accepted only for a loopback host (a dev server). Default true. */
  tls?: boolean | undefined;
  /**
   * Use `datakey/plaintext` to make data keys when the key can bind the context there
   * (derived keys; RSA keys, which bind nothing). Default true; false: the DEK is made
   * locally and wrapped with `encrypt` (a writer then needs no datakey capability).
   */
  generateDataKey?: boolean | undefined;
  /** Retries of a 429, 412, 5xx or dropped connection (default 2). */
  maxRetries?: number | undefined;
  /** Abandon a call (retries included) after this many ms as KMS_UNAVAILABLE. Default: none. */
  deadlineMs?: number | undefined;
}

/** A canonical encoding, labelled so it is never empty (derived keys refuse an empty context). */
const LABEL = Buffer.from("kms-envelope/vault-transit/v1\n");
const contextBytes = (context: EncryptionContext) => Buffer.concat([LABEL, canonicalContextBytes(context)]);

/** What a transit ciphertext looks like; anything else is refused before Vault sees it. */
const CIPHERTEXT = /^vault:v[1-9]\d{0,8}:[A-Za-z0-9+/]+={0,2}$/;
/** A `vault:vN:` prefix and printable ASCII after it; the base64 itself is Vault's to judge (TAMPERED). */
const WRAPPED = /^vault:v[1-9]\d{0,8}:[\x21-\x7e]+$/;

/**
 * Base64 characters of a ciphertext of a 32-byte DEK: nonce + DEK + tag for
 * AEAD types (12 + 32 + 16 bytes), one modulus-sized block for RSA-OAEP.
 */
function sealedLength(keyType: TransitKeyType): number {
  const bytes = keyType.startsWith("rsa-") ? Number(keyType.slice("rsa-".length)) / 8 : 60;
  return 4 * Math.ceil(bytes / 3);
}

function splitKeyOption(key: string): { location: string; query: string } {
  if (typeof key !== "string") throw new EnvelopeError("INVALID_ARGUMENT", "key must be a string");
  const withoutScheme = key.replace(/^(vault-transit|hcvault):\/\//, "");
  const mark = withoutScheme.indexOf("?");
  return mark === -1
    ? { location: withoutScheme, query: "" }
    : { location: withoutScheme.slice(0, mark), query: withoutScheme.slice(mark + 1) };
}

function readCa(options: VaultTransitKekOptions): string | undefined {
  if (options.ca !== undefined) return options.ca;
  const file = options.caFile ?? process.env.VAULT_CACERT;
  if (file === undefined || file === "") return undefined;
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new EnvelopeError("INVALID_ARGUMENT", `cannot read the Vault CA file ${file}`, { cause: error });
  }
}

/**
 * A KEK in a Vault or OpenBao transit engine. wrap = transit encrypt,
 * unwrap = transit decrypt of the recorded `vault:vN:` ciphertext (any
 * version the key still allows), generateDataKey = datakey/plaintext where
 * it binds the context, reencrypt = transit rewrap (the DEK never leaves
 * Vault). The envelope records the canonical id host:port/<mount>/keys/<name>.
 */
export function createVaultTransitKek(options: VaultTransitKekOptions): KeyEncryptionKey {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "createVaultTransitKek needs an options object");
  }
  const { location, query } = splitKeyOption(options.key);
  const namespace = options.namespace ?? process.env.VAULT_NAMESPACE ?? "";
  const id: TransitKeyId = parseTransitKeyId(location, namespace);
  const parameters = readUriParameters(VAULT_TRANSIT_PROVIDER, query, {
    derived: "boolean",
    type: TRANSIT_KEY_TYPES,
  });
  const keyType = options.keyType ?? parameters.type ?? "aes256-gcm96";
  if (!TRANSIT_KEY_TYPES.includes(keyType)) {
    throw new EnvelopeError("INVALID_ARGUMENT", `unsupported transit key type "${String(keyType)}"`);
  }
  const derived = options.derived ?? parameters.derived ?? false;
  const aead = !keyType.startsWith("rsa-");
  if (derived && !aead) throw new EnvelopeError("INVALID_ARGUMENT", `${keyType} keys cannot be derived`);
  const tls = options.tls ?? true;
  const origin = `${tls ? "https" : "http"}://${id.host}:${id.port}`;
  checkClientSettings({ settings: {}, endpoint: origin });
  const maxRetries = options.maxRetries ?? 2;
  if (!(Number.isSafeInteger(maxRetries) && maxRetries >= 0 && maxRetries <= 10)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "maxRetries must be an integer from 0 to 10");
  }
  const tokens = createTokenSource(options);
  // Logins happen in the namespace too, so it travels as the header rather than as a path prefix.
  const http = createVaultHttp({ origin, ca: readCa(options), maxRetries, namespace: id.namespace });
  const call = createKmsCaller({
    service: SERVICE,
    classify: vaultTransitErrors,
    deadlineMs: options.deadlineMs,
  });
  const keyId = id.keyId;
  const mount = id.mount;

  /** Where the context goes: `context` for derived keys (rewrap and datakey pass it), AD for other AEAD keys. */
  const binding = (context: EncryptionContext): Record<string, string> => {
    if (!aead) return {};
    const encoded = contextBytes(context).toString("base64");
    return derived ? { context: encoded } : { associated_data: encoded };
  };

  async function transit(
    operation: string,
    path: string,
    body: Record<string, unknown>,
    signal?: AbortSignal,
  ) {
    return call(operation, keyId, signal, async (combined) => {
      const token = await tokens.get(http, combined);
      const bytes = Buffer.from(JSON.stringify(body));
      try {
        const answer = await http.send({
          method: "POST",
          path: `${mount}/${path}`,
          body: bytes,
          token,
          signal: combined,
        });
        return (answer.data ?? {}) as Record<string, unknown>;
      } finally {
        bytes.fill(0);
      }
    });
  }

  function ciphertextOf(data: Record<string, unknown>, operation: string): Uint8Array {
    const ciphertext = data.ciphertext;
    const version = typeof ciphertext === "string" ? transitKeyVersion(ciphertext) : undefined;
    if (typeof ciphertext !== "string" || !CIPHERTEXT.test(ciphertext) || version === undefined) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `${SERVICE} ${operation} with ${keyId} returned no transit ciphertext`,
      );
    }
    if (data.key_version !== undefined && data.key_version !== version) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `${SERVICE} ${operation} with ${keyId} reported key version ${String(data.key_version)} for a v${version} ciphertext`,
      );
    }
    return new Uint8Array(Buffer.from(ciphertext, "latin1"));
  }

  function dataKeyOf(data: Record<string, unknown>, operation: string): Uint8Array {
    const encoded = data.plaintext;
    const bytes = typeof encoded === "string" ? new Uint8Array(Buffer.from(encoded, "base64")) : undefined;
    return checkDataKey(bytes, `${SERVICE} ${operation} with ${keyId}`);
  }

  function ciphertextText(entry: WrappedKeyEntry): string {
    if (!(entry?.wrapped instanceof Uint8Array)) {
      throw new EnvelopeError("INVALID_ARGUMENT", "the entry must have its wrapped bytes as a Uint8Array");
    }
    const text = Buffer.from(entry.wrapped.subarray(0, 1024)).toString("latin1");
    const match = WRAPPED.exec(text);
    // A cut or padded entry never reaches Vault; a damaged one of the right shape is Vault's to reject.
    if (match === null || text.length - text.indexOf(":", 7) - 1 !== sealedLength(keyType)) {
      throw new EnvelopeError(
        "MALFORMED",
        `the wrapped key for ${keyId} is not a transit ciphertext of a ${keyType} key`,
      );
    }
    return text;
  }

  const kek: KeyEncryptionKey = {
    provider: VAULT_TRANSIT_PROVIDER,
    keyId,

    async wrap(dek, context, callOptions) {
      if (!(dek instanceof Uint8Array) || dek.length !== 32) {
        throw new EnvelopeError("INVALID_ARGUMENT", "wrap takes a 32-byte data key");
      }
      const plaintext = Buffer.from(dek).toString("base64");
      const data = await transit(
        "Encrypt",
        `encrypt/${id.name}`,
        { plaintext, ...binding(context) },
        callOptions?.signal,
      );
      return { keyId, wrapped: ciphertextOf(data, "Encrypt") };
    },

    async unwrap(entry, context, callOptions) {
      if (entry === null || typeof entry !== "object") {
        throw new EnvelopeError("INVALID_ARGUMENT", "unwrap takes a wrapped-key entry");
      }
      checkEntryOwner(kek, entry);
      const ciphertext = ciphertextText(entry);
      const data = await transit(
        "Decrypt",
        `decrypt/${id.name}`,
        { ciphertext, ...binding(context) },
        callOptions?.signal,
      );
      return dataKeyOf(data, "Decrypt");
    },

    async reencrypt(entry, context, callOptions) {
      // Vault's rewrap stays within one key and takes no associated_data: only derived and RSA keys qualify.
      if (entry.provider !== VAULT_TRANSIT_PROVIDER || entry.keyId !== keyId || (aead && !derived))
        return undefined;
      const ciphertext = ciphertextText(entry);
      const data = await transit(
        "Rewrap",
        `rewrap/${id.name}`,
        { ciphertext, ...binding(context) },
        callOptions?.signal,
      );
      return { keyId, wrapped: ciphertextOf(data, "Rewrap") };
    },

    async close() {
      http.close();
    },
  };
  if (options.generateDataKey !== false && (derived || !aead)) {
    kek.generateDataKey = async (context, callOptions) => {
      const data = await transit(
        "DataKey",
        `datakey/plaintext/${id.name}`,
        { bits: 256, ...binding(context) },
        callOptions?.signal,
      );
      const wrapped = ciphertextOf(data, "DataKey");
      return { keyId, wrapped, plaintext: dataKeyOf(data, "DataKey") };
    };
  }
  return Object.freeze(kek);
}
