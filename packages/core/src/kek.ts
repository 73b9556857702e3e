import type { EncryptionContext } from "./format/context.js";
import type { WrappedKeyEntry } from "./format/header.js";

export interface KekCallOptions {
  /** Cancels the KMS call where the provider supports it (every bundled provider does). */
  readonly signal?: AbortSignal | undefined;
}

/** What `wrap` returns: the wrapped bytes and the canonical key id to record in the envelope. */
export interface WrappedKey {
  /**
   * The id recorded in the envelope: a key ARN (never an alias), a Cloud KMS
   * resource name, a versioned Key Vault kid, a local key name.
   */
  readonly keyId: string;
  readonly wrapped: Uint8Array;
}

export interface GeneratedDataKey extends WrappedKey {
  /** The plaintext DEK (32 bytes). Core zeroes it after use. */
  readonly plaintext: Uint8Array;
}

/**
 * A key encryption key held somewhere (a KMS, a keystore, memory). The whole
 * provider contract: wrap and unwrap a 32-byte DEK under an encryption
 * context. Everything else (format, commitment, frames, errors) is core's.
 *
 * Providers throw `EnvelopeError`s with codes from the core union and the SDK
 * error as `cause`; anything else thrown is wrapped as `KMS_ERROR`.
 */
export interface KeyEncryptionKey {
  /** Provider id recorded in the envelope: 1..64 bytes of [a-z0-9-]. */
  readonly provider: string;
  /** The id this KEK was configured with (may be an alias or an unversioned name). */
  readonly keyId: string;

  wrap(dek: Uint8Array, context: EncryptionContext, options?: KekCallOptions): Promise<WrappedKey>;

  /** Returns the 32-byte DEK; core zeroes the returned buffer after use. */
  unwrap(entry: WrappedKeyEntry, context: EncryptionContext, options?: KekCallOptions): Promise<Uint8Array>;

  /** Optional: one call that returns a fresh DEK and its wrapped form (AWS GenerateDataKey). */
  generateDataKey?(context: EncryptionContext, options?: KekCallOptions): Promise<GeneratedDataKey>;

  /**
   * Optional: whether this KEK may unwrap an envelope entry. Defaults to an
   * exact `(provider, keyId)` match; providers widen it where the service
   * does (an unversioned Key Vault key matches its versions, an AWS alias
   * matches the ARN it resolves to, a multi-Region key matches its replicas).
   */
  matches?(entry: Pick<WrappedKeyEntry, "provider" | "keyId">): boolean | Promise<boolean>;

  /**
   * Optional: re-wrap an entry made by another key of the same provider
   * inside the KMS (AWS ReEncrypt), so the plaintext DEK never leaves it.
   * Returns `undefined` when this source cannot be re-encrypted that way.
   */
  reencrypt?(
    entry: WrappedKeyEntry,
    context: EncryptionContext,
    options?: KekCallOptions,
  ): Promise<WrappedKey | undefined>;

  /**
   * Optional: releases what the KEK holds open (a gRPC channel, sockets).
   * Only a client the KEK created is closed; an injected client stays the
   * caller's. Calls after `close()` may fail.
   */
  close?(): Promise<void>;
}

export async function kekMatches(kek: KeyEncryptionKey, entry: Pick<WrappedKeyEntry, "provider" | "keyId">) {
  if (kek.matches !== undefined) return kek.matches(entry);
  return entry.provider === kek.provider && entry.keyId === kek.keyId;
}
