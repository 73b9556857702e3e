import { zero } from "../crypto/memory.js";
import { EnvelopeError } from "../errors.js";
import { DEK_LENGTH } from "../format/constants.js";
import type { WrappedKeyEntry } from "../format/header.js";
import { invalid, optionalFunction, requireObject, requireString } from "../validate.js";

/**
 * A data key a KMS returned: exactly 32 bytes, else `KMS_INTEGRITY` (the
 * KMS answered, but not with a key this format can use) and the bytes are
 * zeroed. Core applies it to every unwrap and generateDataKey result as
 * well; providers call it where they still hold the service's answer.
 */
export function checkDataKey(value: unknown, source: string): Uint8Array {
  requireString(source, "checkDataKey", "source");
  if (value instanceof Uint8Array && value.length === DEK_LENGTH) return value;
  if (value instanceof Uint8Array) zero(value);
  throw new EnvelopeError(
    "KMS_INTEGRITY",
    `${source} returned a data key of ${value instanceof Uint8Array ? `${value.length} bytes` : "no bytes"}, not ${DEK_LENGTH}`,
  );
}

/**
 * A wrapped key a KMS returned: some bytes (exactly `length` when the key
 * fixes it: an RSA modulus, AES key wrap's 40), else `KMS_INTEGRITY`, so no
 * envelope is written that its KMS could never open.
 */
export function checkWrappedKey(value: unknown, source: string, length?: number): Uint8Array {
  requireString(source, "checkWrappedKey", "source");
  if (length !== undefined && !(Number.isSafeInteger(length) && length > 0)) {
    invalid("checkWrappedKey", "length must be a positive integer");
  }
  const size = value instanceof Uint8Array ? value.length : 0;
  if (size > 0 && (length === undefined || size === length)) return value as Uint8Array;
  throw new EnvelopeError(
    "KMS_INTEGRITY",
    `${source} returned ${size === 0 ? "no wrapped key" : `${size} wrapped bytes, not ${length}`}`,
  );
}

/** Compares two key ids; providers pass a wider rule (multi-Region keys, versions, case). */
export type SameKey = (expected: string, actual: string) => boolean;

const exactly: SameKey = (expected, actual) => expected === actual;

/**
 * Key ownership, before a KMS call: the envelope entry must be one this KEK
 * made (its provider and a key id `same` accepts), else `KEY_ID_MISMATCH`.
 */
export function checkEntryOwner(
  kek: { readonly provider: string; readonly keyId: string },
  entry: Pick<WrappedKeyEntry, "provider" | "keyId">,
  same: SameKey = exactly,
): void {
  requireObject(kek, "checkEntryOwner", "kek");
  requireObject(entry, "checkEntryOwner", "entry");
  optionalFunction(same, "checkEntryOwner", "same");
  if (entry.provider !== kek.provider || !same(kek.keyId, entry.keyId)) {
    throw new EnvelopeError(
      "KEY_ID_MISMATCH",
      `entry was wrapped by ${entry.provider}:${entry.keyId}, not ${kek.provider}:${kek.keyId}`,
    );
  }
}

/**
 * Key ownership, after a KMS call: the key the service reports having used
 * must be the one asked for, not whatever the request was routed to, else
 * `KEY_ID_MISMATCH`.
 */
export function checkReportedKey(
  service: string,
  operation: string,
  reported: unknown,
  expected: string,
  same: SameKey = exactly,
): void {
  requireString(service, "checkReportedKey", "service");
  requireString(operation, "checkReportedKey", "operation");
  requireString(expected, "checkReportedKey", "expected");
  optionalFunction(same, "checkReportedKey", "same");
  if (typeof reported !== "string" || !same(expected, reported)) {
    throw new EnvelopeError(
      "KEY_ID_MISMATCH",
      `${service} ${operation} used ${typeof reported === "string" ? reported : "an unnamed key"}, not ${expected}`,
    );
  }
}
