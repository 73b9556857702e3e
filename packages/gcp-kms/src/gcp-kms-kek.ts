import { constants, createPublicKey, type KeyObject, publicEncrypt } from "node:crypto";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import {
  canonicalContextBytes,
  DEK_LENGTH,
  EnvelopeError,
  type KeyEncryptionKey,
  throwIfAborted,
  type WrappedKeyEntry,
} from "@kms-envelope/core";
import { crc32c } from "@node-rs/crc32";
import { type KmsOperation, mapKmsError } from "./kms-errors.js";

export const GCP_KMS_PROVIDER = "gcp-kms";

type ClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;
/** The parameters of the first (promise-returning) overload of a client method. */
type PromiseOverload<T> = T extends {
  (...args: infer A): infer R;
  (...args: infer _B): unknown;
  (...args: infer _C): unknown;
}
  ? { args: A; result: R }
  : never;
/** gax call options (`timeout`, `retry`, `maxRetries`, …): the second argument of every client method. */
export type GcpCallOptions = NonNullable<PromiseOverload<KeyManagementServiceClient["encrypt"]>["args"][1]>;

export interface GcpKmsKekOptions {
  /**
   * `projects/*\/locations/*\/keyRings/*\/cryptoKeys/*` for a symmetric ENCRYPT_DECRYPT key, or
   * `…/cryptoKeyVersions/*` for an ASYMMETRIC_DECRYPT (RSA OAEP) key version.
   */
  name: string;
  /** A client to use (and keep owning). Otherwise one is created on first use with Application Default Credentials. */
  client?: KeyManagementServiceClient | undefined;
  /** Constructor options for the client created when `client` is absent. */
  clientOptions?: ClientOptions | undefined;
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
const DEFAULT_CALL_OPTIONS: GcpCallOptions = { timeout: 30_000 };

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
  const callDefaults = { ...DEFAULT_CALL_OPTIONS, ...options.callOptions };
  let created: Promise<KeyManagementServiceClient> | undefined;
  let publicKey: Promise<{ key: KeyObject; hash: string }> | undefined;

  /**
   * The client, initialized. Initializing first matters: each client method
   * starts `initialize()` on its own and rethrows a failure from a detached
   * promise (an unhandled rejection that can end the process), e.g. when no
   * credentials are found. Awaited here, the failure becomes a typed error.
   */
  async function getClient(): Promise<KeyManagementServiceClient> {
    if (options.client !== undefined) {
      await options.client.initialize();
      return options.client;
    }
    // Imported lazily: loading the SDK (gax, grpc-js, protos) costs tens of milliseconds.
    created ??= import("@google-cloud/kms").then(async (kms) => {
      const fresh = new kms.KeyManagementServiceClient(options.clientOptions);
      await fresh.initialize();
      return fresh;
    });
    const pending = created;
    // A client that failed to initialize caches the failure: drop it so a later call starts afresh.
    pending.catch(() => {
      if (created === pending) created = undefined;
    });
    return pending;
  }

  /** One client call with our deadlines, the caller's signal, and the error table applied. */
  async function call<T>(
    operation: KmsOperation,
    signal: AbortSignal | undefined,
    invoke: (kms: KeyManagementServiceClient, callOptions: GcpCallOptions) => Promise<[T, ...unknown[]]>,
  ): Promise<T> {
    throwIfAborted(signal);
    try {
      const kms = await getClient();
      // gax cancels the RPC on abort; the race also returns at once on clients whose gax predates `signal`.
      const pending = invoke(kms, signal === undefined ? callDefaults : { ...callDefaults, signal });
      const [response] = signal === undefined ? await pending : await raceAbort(pending, signal);
      return response;
    } catch (error) {
      throw mapKmsError(operation, name, error, signal);
    }
  }

  /**
   * The version's public key, fetched once and shared by every wrap. The
   * fetch carries no caller's signal (one caller aborting must not fail the
   * others): each caller races its own signal against it instead.
   */
  async function loadPublicKey(signal: AbortSignal | undefined): Promise<{ key: KeyObject; hash: string }> {
    if (publicKey === undefined) {
      const fetching = call("GetPublicKey", undefined, (kms, o) => kms.getPublicKey({ name }, o)).then(
        (response) => {
          if (response.name !== name) throw mismatch("GetPublicKey", response.name);
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
        },
      );
      publicKey = fetching;
      // A failed fetch is not cached: the next wrap asks again.
      fetching.catch(() => {
        if (publicKey === fetching) publicKey = undefined;
      });
    }
    if (signal === undefined) return publicKey;
    throwIfAborted(signal);
    try {
      return await raceAbort(publicKey, signal);
    } catch (error) {
      throw mapKmsError("GetPublicKey", name, error, signal);
    }
  }

  function mismatch(operation: KmsOperation, reported: unknown): EnvelopeError {
    return new EnvelopeError(
      "KEY_ID_MISMATCH",
      `Cloud KMS ${operation} answered for ${String(reported)} instead of ${name}`,
    );
  }

  function checkCrc(operation: KmsOperation, data: Uint8Array, checksum: unknown, field: string): void {
    const expected = (checksum as { value?: unknown } | null | undefined)?.value;
    if (expected === undefined || expected === null || String(expected) !== String(crc32c(data))) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `Cloud KMS ${operation} response for ${name}: ${field} failed its CRC32C check`,
        {
          retryable: true,
        },
      );
    }
  }

  function requireVerified(operation: KmsOperation, verified: unknown, field: string): void {
    if (verified !== true) {
      throw new EnvelopeError(
        "KMS_INTEGRITY",
        `Cloud KMS ${operation} on ${name} did not verify the request's ${field} checksum`,
        { retryable: true },
      );
    }
  }

  function ownEntry(entry: WrappedKeyEntry): void {
    if (entry.provider !== GCP_KMS_PROVIDER || entry.keyId !== name) {
      throw new EnvelopeError("KEY_ID_MISMATCH", `entry was wrapped by ${entry.keyId}, not ${name}`);
    }
  }

  const symmetric = {
    async wrap(dek: Uint8Array, context: Parameters<KeyEncryptionKey["wrap"]>[1], signal?: AbortSignal) {
      const aad = canonicalContextBytes(context);
      const response = await call("Encrypt", signal, (kms, o) =>
        kms.encrypt(
          {
            name,
            plaintext: asBuffer(dek),
            additionalAuthenticatedData: asBuffer(aad),
            plaintextCrc32c: { value: crc32c(dek) },
            additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
          },
          o,
        ),
      );
      // The version that encrypted must be one of ours, not whatever key the request was routed to.
      if (typeof response.name !== "string" || !response.name.startsWith(`${name}/cryptoKeyVersions/`)) {
        throw mismatch("Encrypt", response.name);
      }
      requireVerified("Encrypt", response.verifiedPlaintextCrc32c, "plaintext");
      requireVerified(
        "Encrypt",
        response.verifiedAdditionalAuthenticatedDataCrc32c,
        "additional authenticated data",
      );
      const wrapped = bytes(response.ciphertext);
      checkCrc("Encrypt", wrapped, response.ciphertextCrc32c, "ciphertext");
      return { keyId: name, wrapped };
    },
    async unwrap(
      entry: WrappedKeyEntry,
      context: Parameters<KeyEncryptionKey["wrap"]>[1],
      signal?: AbortSignal,
    ) {
      ownEntry(entry);
      const aad = canonicalContextBytes(context);
      const response = await call("Decrypt", signal, (kms, o) =>
        kms.decrypt(
          {
            name,
            ciphertext: asBuffer(entry.wrapped),
            additionalAuthenticatedData: asBuffer(aad),
            ciphertextCrc32c: { value: crc32c(entry.wrapped) },
            additionalAuthenticatedDataCrc32c: { value: crc32c(aad) },
          },
          o,
        ),
      );
      return checkedDek("Decrypt", bytes(response.plaintext), response.plaintextCrc32c);
    },
  };

  const asymmetric = {
    async wrap(dek: Uint8Array, _context: Parameters<KeyEncryptionKey["wrap"]>[1], signal?: AbortSignal) {
      const { key, hash } = await loadPublicKey(signal);
      throwIfAborted(signal);
      const wrapped = publicEncrypt({ key, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }, dek);
      return { keyId: name, wrapped: new Uint8Array(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength) };
    },
    async unwrap(
      entry: WrappedKeyEntry,
      _context: Parameters<KeyEncryptionKey["wrap"]>[1],
      signal?: AbortSignal,
    ) {
      ownEntry(entry);
      const response = await call("AsymmetricDecrypt", signal, (kms, o) =>
        kms.asymmetricDecrypt(
          { name, ciphertext: asBuffer(entry.wrapped), ciphertextCrc32c: { value: crc32c(entry.wrapped) } },
          o,
        ),
      );
      requireVerified("AsymmetricDecrypt", response.verifiedCiphertextCrc32c, "ciphertext");
      return checkedDek("AsymmetricDecrypt", bytes(response.plaintext), response.plaintextCrc32c);
    },
  };

  function checkedDek(operation: KmsOperation, plaintext: Uint8Array, checksum: unknown): Uint8Array {
    try {
      checkCrc(operation, plaintext, checksum, "plaintext");
      if (plaintext.length !== DEK_LENGTH) {
        throw new EnvelopeError(
          "MALFORMED",
          `Cloud KMS ${operation} on ${name} returned a key of the wrong length`,
        );
      }
      return new Uint8Array(plaintext);
    } finally {
      plaintext.fill(0);
    }
  }

  const impl = mode === "symmetric" ? symmetric : asymmetric;
  const kek: GcpKmsKek = {
    provider: GCP_KMS_PROVIDER,
    keyId: name,
    mode,
    wrap: (dek, context, callOptions) => impl.wrap(dek, context, callOptions?.signal),
    unwrap: (entry, context, callOptions) => impl.unwrap(entry, context, callOptions?.signal),
    matches: (entry) => entry.provider === GCP_KMS_PROVIDER && entry.keyId === name,
    async close() {
      // Only a client this KEK created is ours to close.
      const own = await created?.catch(() => undefined);
      created = undefined;
      await own?.close();
    },
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
function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Response bytes arrive as Buffer (gRPC) or Uint8Array/base64 (REST, depending on the gax version). */
function bytes(value: unknown): Uint8Array {
  if (typeof value === "string") return new Uint8Array(Buffer.from(value, "base64"));
  if (value instanceof Uint8Array) return value;
  return new Uint8Array(0);
}

function raceAbort<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    pending.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
