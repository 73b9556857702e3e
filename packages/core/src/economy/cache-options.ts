import { EnvelopeError } from "../errors.js";
import type { KmsEventListener } from "./events.js";

export interface EncryptCacheOptions {
  /** A DEK is reused for at most this long after it was made (ms, > 0, finite). */
  readonly maxAgeMs: number;
  /** …for at most this many messages (integer >= 1). */
  readonly maxMessages: number;
  /** …and for at most this many plaintext bytes in total (integer >= 1). */
  readonly maxBytes: number;
  /** Partitions (keyring × context) kept at once, least recently used evicted first. Default 64. */
  readonly capacity?: number | undefined;
}

export interface DecryptCacheOptions {
  /** An unwrapped DEK is kept this long after the unwrap (ms, > 0, finite). */
  readonly ttlMs: number;
  /** Unwrapped DEKs kept at once, least recently used evicted first (integer >= 1). */
  readonly capacity: number;
}

export interface DataKeyCacheOptions {
  /** Reuse a DEK and its wrapped keys across encrypts (off when absent). */
  readonly encrypt?: EncryptCacheOptions | undefined;
  /** Keep unwrapped DEKs across decrypts (off when absent). */
  readonly decrypt?: DecryptCacheOptions | undefined;
  /** Receives `cache.evict` events (hits and misses go to the keyring's `onEvent`). */
  readonly onEvent?: KmsEventListener | undefined;
  /** The clock bounds are checked against, in ms (default `performance.now`); tests pass their own. */
  readonly now?: (() => number) | undefined;
}

const positive = (value: unknown, name: string, integer: boolean): number => {
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value <= 0 ||
    (integer && !Number.isSafeInteger(value))
  ) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `${name} is required and must be a finite ${integer ? "integer >= 1" : "number > 0"}`,
    );
  }
  return value;
};

/** The options, checked: every bound required, finite and positive (`INVALID_ARGUMENT` otherwise). */
export function resolveCacheOptions(options: DataKeyCacheOptions) {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "createDataKeyCache needs an options object");
  }
  const enc = options.encrypt && {
    maxAgeMs: positive(options.encrypt.maxAgeMs, "encrypt.maxAgeMs", false),
    maxMessages: positive(options.encrypt.maxMessages, "encrypt.maxMessages", true),
    maxBytes: positive(options.encrypt.maxBytes, "encrypt.maxBytes", true),
    capacity: positive(options.encrypt.capacity ?? 64, "encrypt.capacity", true),
  };
  const dec = options.decrypt && {
    ttlMs: positive(options.decrypt.ttlMs, "decrypt.ttlMs", false),
    capacity: positive(options.decrypt.capacity, "decrypt.capacity", true),
  };
  if (enc === undefined && dec === undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "createDataKeyCache needs encrypt and/or decrypt settings");
  }
  if (options.now !== undefined && typeof options.now !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "now must be a function");
  }
  if (options.onEvent !== undefined && typeof options.onEvent !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "onEvent must be a function");
  }
  return { enc, dec };
}
