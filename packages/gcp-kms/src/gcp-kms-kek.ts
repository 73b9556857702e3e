import { createPublicKey } from "node:crypto";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import {
  canonicalContextBytes,
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  createKmsCaller,
  createOwnedClient,
  createPromiseCache,
  EnvelopeError,
  type KeyEncryptionKey,
  rsaOaepWrap,
  throwIfAborted,
} from "@kms-envelope/core";
import { clientOptionsFor, type GcpClientOptions, type GcpClientSettings } from "./client-options.js";
import { crc32c } from "./crc32c.js";
import { gcpKmsErrors } from "./errors.js";

export const GCP_KMS_PROVIDER = "gcp-kms";

/** gax call options (`timeout`, `retry`, `maxRetries`, …), read off a method with one signature. */
export type GcpCallOptions = NonNullable<Parameters<KeyManagementServiceClient["listKeyRingsAsync"]>[1]>;

export interface GcpKmsKekOptions extends GcpClientSettings {
  /**
   * `projects/*\/locations/*\/keyRings/*\/cryptoKeys/*` for a symmetric ENCRYPT_DECRYPT key, or
   * `…/cryptoKeyVersions/*` for an ASYMMETRIC_DECRYPT (RSA OAEP) key version.
   */
  name: string;
  /** A client to use (and keep owning). Otherwise one is created on first use with Application Default Credentials. */
  client?: KeyManagementServiceClient | undefined;
  /** Constructor options for the client created when `client` is absent. */
  clientOptions?: GcpClientOptions | undefined;
  /** Retries and deadlines for every call; merged over the default `{ timeout: 30_000 }` (30 s in total, retries included). */
  callOptions?: GcpCallOptions | undefined;
}

export interface GcpKmsKek extends KeyEncryptionKey {
  /** "symmetric": Encrypt/Decrypt in Cloud KMS; "asymmetric": local RSA-OAEP wrap, AsymmetricDecrypt. */
  readonly mode: "symmetric" | "asymmetric";
  /** Closes the client if this KEK created it; an injected client stays open. */
  close(): Promise<void>;
}

const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;
const VERSION_NAME =
  /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+\/cryptoKeyVersions\/[^/]+$/;
const RSA_OAEP = /^RSA_DECRYPT_OAEP_(2048|3072|4096)_(SHA1|SHA256|SHA512)$/;
const SERVICE = "Cloud KMS";
type KmsOperation = "Encrypt" | "Decrypt" | "AsymmetricDecrypt" | "GetPublicKey";
const call = createKmsCaller({ service: SERVICE, classify: gcpKmsErrors });

/**
 * A Cloud KMS key as a KEK. Symmetric keys wrap the DEK with Encrypt, the
 * canonical context as additional authenticated data; Cloud KMS records the
 * version in the ciphertext, so rotation never breaks old envelopes. RSA
 * decrypt keys wrap locally with the (cached, checksummed) public key, zero
 * KMS calls per encrypt, and unwrap with AsymmetricDecrypt. Every call carries
 * and checks CRC32C checksums, end to end, as Google recommends.
 */
export function createGcpKmsKek(options: GcpKmsKekOptions): GcpKmsKek {
  const name = typeof options?.name === "string" ? options.name.trim() : "";
  const mode = KEY_NAME.test(name) ? "symmetric" : VERSION_NAME.test(name) ? "asymmetric" : undefined;
  if (mode === undefined) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `"${name}" is not a Cloud KMS key name (projects/*/locations/*/keyRings/*/cryptoKeys/*[/cryptoKeyVersions/*])`,
    );
  }
  const clientOptions = clientOptionsFor(options);
  const callDefaults: GcpCallOptions = { timeout: 30_000, ...options.callOptions };

  /**
   * The client, initialized before each call: a client method starts `initialize()`
   * on its own and rethrows its failure (e.g. no credentials) from a detached promise,
   * an unhandled rejection that can end the process. Awaited here, it is a typed error,
   * and a created client that failed is dropped, so the next call starts over. Only a
   * client this KEK created is ours to close.
   */
  const client = createOwnedClient(
    options.client,
    async () => {
      // Imported lazily: loading the SDK (gax, grpc-js, protos) costs tens of milliseconds.
      const fresh = new (await import("@google-cloud/kms")).KeyManagementServiceClient(clientOptions);
      await fresh.initialize();
      return fresh;
    },
    (own) => own.close(),
  );

  /** One client call with our deadlines; the kit adds the signal and the error table. */
  const kms = <T>(
    operation: KmsOperation,
    signal: AbortSignal | undefined,
    invoke: (client: KeyManagementServiceClient, callOptions: GcpCallOptions) => Promise<[T, ...unknown[]]>,
  ): Promise<T> =>
    call(operation, name, signal, async (s) => {
      const own = await client.get();
      await own.initialize(); // see `client` (at once when already initialized)
      return (await invoke(own, s === undefined ? callDefaults : { ...callDefaults, signal: s }))[0];
    });

  // The version's public key, fetched once without any caller's signal and shared by every wrap.
  const publicKey = createPromiseCache(async () => {
    const response = await kms("GetPublicKey", undefined, (client, o) => client.getPublicKey({ name }, o));
    checkReportedKey(SERVICE, "GetPublicKey", response.name, name);
    const pem = response.pem ?? "";
    checkCrc("GetPublicKey", Buffer.from(pem, "utf8"), response.pemCrc32c, "pem");
    const algorithm = RSA_OAEP.exec(String(response.algorithm));
    if (algorithm === null) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${name} has algorithm ${String(response.algorithm)}; only RSA_DECRYPT_OAEP_* keys can wrap DEKs`,
      );
    }
    return { key: createPublicKey(pem), hash: algorithm[2]!.toLowerCase() };
  });

  /** A checksum that does not match: bytes changed on the way, worth one more try. */
  function checksum(operation: KmsOperation, ok: boolean, what: string): void {
    const message = `${SERVICE} ${operation} on ${name}: ${what}`;
    if (!ok) throw new EnvelopeError("KMS_INTEGRITY", message, { retryable: true });
  }
  function checkCrc(operation: KmsOperation, data: Uint8Array, crc: unknown, field: string): void {
    // An Int64Value: number, string or Long; a missing one ("undefined") never matches.
    const ok = String((crc as { value?: unknown } | null | undefined)?.value) === String(crc32c(data));
    checksum(operation, ok, `the response's ${field} failed its CRC32C check`);
  }
  const requireVerified = (operation: KmsOperation, verified: unknown, field: string) =>
    checksum(operation, verified === true, `the request's ${field} checksum was not verified`);

  /** The DEK a decrypt answered, checked against its checksum; the client's copy is zeroed either way. */
  function checkedDek(operation: KmsOperation, answer: unknown, crc: unknown): Uint8Array {
    const plaintext = answer instanceof Uint8Array ? answer : new Uint8Array(0);
    try {
      checkCrc(operation, plaintext, crc, "plaintext");
      return checkDataKey(new Uint8Array(plaintext), `${SERVICE} ${operation} with ${name}`);
    } finally {
      plaintext.fill(0);
    }
  }

  const kek: GcpKmsKek = {
    provider: GCP_KMS_PROVIDER,
    keyId: name,
    mode,
    async wrap(dek, context, callOptions) {
      const signal = callOptions?.signal;
      if (mode === "asymmetric") {
        const { key, hash } = await publicKey.get(undefined, signal);
        throwIfAborted(signal);
        return { keyId: name, wrapped: rsaOaepWrap(key, dek, hash) };
      }
      const aad = canonicalContextBytes(context);
      const request = {
        name,
        plaintext: asBuffer(dek),
        additionalAuthenticatedData: asBuffer(aad),
        plaintextCrc32c: { value: crc32c(dek) },
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      };
      const response = await kms("Encrypt", signal, (client, o) => client.encrypt(request, o));
      // The version that encrypted must be one of ours, not whatever key the request was routed to.
      checkReportedKey(SERVICE, "Encrypt", response.name, name, (key, reported) =>
        reported.startsWith(`${key}/cryptoKeyVersions/`),
      );
      requireVerified("Encrypt", response.verifiedPlaintextCrc32c, "plaintext");
      requireVerified("Encrypt", response.verifiedAdditionalAuthenticatedDataCrc32c, "AAD");
      const wrapped = checkWrappedKey(response.ciphertext, `${SERVICE} Encrypt with ${name}`);
      checkCrc("Encrypt", wrapped, response.ciphertextCrc32c, "ciphertext");
      return { keyId: name, wrapped };
    },
    async unwrap(entry, context, callOptions) {
      const signal = callOptions?.signal;
      checkEntryOwner(kek, entry);
      const ciphertext = asBuffer(entry.wrapped);
      const ciphertextCrc32c = { value: crc32c(entry.wrapped) };
      if (mode === "asymmetric") {
        const response = await kms("AsymmetricDecrypt", signal, (client, o) =>
          client.asymmetricDecrypt({ name, ciphertext, ciphertextCrc32c }, o),
        );
        requireVerified("AsymmetricDecrypt", response.verifiedCiphertextCrc32c, "ciphertext");
        return checkedDek("AsymmetricDecrypt", response.plaintext, response.plaintextCrc32c);
      }
      const aad = canonicalContextBytes(context);
      const request = {
        name,
        ciphertext,
        additionalAuthenticatedData: asBuffer(aad),
        ciphertextCrc32c,
        additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
      };
      const response = await kms("Decrypt", signal, (client, o) => client.decrypt(request, o));
      return checkedDek("Decrypt", response.plaintext, response.plaintextCrc32c);
    },
    matches: (entry) => entry.provider === GCP_KMS_PROVIDER && entry.keyId === name,
    close: client.close,
  };
  return Object.freeze(kek);
}

/**
 * A Buffer view of the same bytes (no copy). The REST transport's JSON
 * serializer (proto3-json-serializer 4.x) base64-encodes a plain Uint8Array
 * from offset 0 of its ArrayBuffer, ignoring `byteOffset`: a subarray (such
 * as a wrapped key inside a parsed envelope) would go out as the wrong bytes.
 * Buffers take its correct path.
 */
const asBuffer = (bytes: Uint8Array): Buffer => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
