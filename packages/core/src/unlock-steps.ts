import type { KeyObject } from "node:crypto";
import { verifyHeaderTag } from "./crypto/aes-gcm.js";
import { deriveKeys } from "./crypto/derive.js";
import { constantTimeEqual, zero } from "./crypto/memory.js";
import { EnvelopeError, toEnvelopeError, type UnwrapFailure } from "./errors.js";
import type { EnvelopeHeader, WrappedKeyEntry } from "./format/header.js";
import type { KeyEncryptionKey } from "./kek.js";
import type { UnwrapCandidate } from "./keyring.js";
import { checkDataKey } from "./provider-kit/checks.js";

// The steps of finding an envelope's DEK that the plain path (unlock.ts) and the KMS
// economy path (economy/unlock-economy.ts) share; here so neither imports the other.

export interface UnlockedHeader {
  /** The plaintext DEK; the caller zeroes it. */
  readonly dek: Uint8Array;
  /** The frame key (see crypto/derive.ts). */
  readonly frameKey: KeyObject;
  readonly kek: KeyEncryptionKey;
  readonly entry: WrappedKeyEntry;
}

export function openFailure(candidate: UnwrapCandidate): UnwrapFailure {
  return {
    ...entryId(candidate.entry),
    error: toEnvelopeError(candidate.openError, "KMS_ERROR", "discovery could not open the KEK"),
  };
}

/** A `KMS_INTEGRITY` failure (and the buffer zeroed) when what a KEK returned is not a 32-byte DEK. */
export function checkDekLength(dek: unknown, entry: WrappedKeyEntry): UnwrapFailure | undefined {
  try {
    checkDataKey(dek, `${entry.provider} unwrap`);
    return undefined;
  } catch (error) {
    return { ...entryId(entry), error: error as EnvelopeError };
  }
}

/**
 * Steps 2-4: derives the frame key and proves the DEK is the envelope's
 * (key commitment, then header tag). Zeroes the DEK and throws `TAMPERED` otherwise.
 */
export function verifyDek(header: EnvelopeHeader, dek: Uint8Array): KeyObject {
  const { frameKey, commitment } = deriveKeys(dek, header.messageId, header.suite);
  if (!constantTimeEqual(commitment, header.commitment)) {
    zero(dek);
    throw new EnvelopeError(
      "TAMPERED",
      "key-commitment: the data key does not match the envelope's commitment",
    );
  }
  try {
    verifyHeaderTag(frameKey, header.authenticatedBytes, header.headerTag);
  } catch (error) {
    zero(dek);
    throw error;
  }
  return frameKey;
}

export function noUsableKey(header: EnvelopeHeader, failures: readonly UnwrapFailure[]): EnvelopeError {
  const tried = failures.length;
  const listed = header.wrappedKeys.map((entry) => `${entry.provider}:${entry.keyId}`).join(", ");
  return new EnvelopeError(
    "NO_USABLE_KEY",
    tried === 0
      ? `unwrap: no KEK in the keyring may unwrap this envelope (it is wrapped for: ${listed})`
      : `unwrap: none of the ${tried} allowed KEKs could unwrap the data key (${failures.map((f) => `${f.provider}:${f.keyId} → ${f.error.code}`).join(", ")})`,
    { failures },
  );
}

export function entryId(entry: WrappedKeyEntry) {
  return { provider: entry.provider, keyId: entry.keyId };
}
