import { randomUUID } from "node:crypto";
import { EnvelopeError } from "../errors.js";
import type { KeyEncryptionKey } from "../kek.js";
import { type RetryPolicy, resolveRetryPolicy } from "./backoff.js";
import { type CacheInternals, cacheInternals, type DataKeyCache } from "./data-key-cache.js";
import type { KmsEventListener } from "./events.js";
import { createKekLimiter, guardKek, type KekLimiter } from "./guarded-kek.js";
import { type RateLimit, validateRateLimit } from "./token-bucket.js";

/** How the keyring treats every KMS call it makes (all optional; nothing is limited by default). */
export interface KmsPolicy {
  /** Each KMS call (each attempt) fails as `KMS_UNAVAILABLE` when it has not answered by then. */
  readonly callTimeoutMs?: number | undefined;
  /** One encrypt, decrypt or rewrap, waits and retries included, ends as `ABORTED` by then. */
  readonly deadlineMs?: number | undefined;
  /** A token bucket per KEK (provider + key id), shared by every call of this keyring. */
  readonly rateLimit?: RateLimit | undefined;
  /** Core's retries on `KMS_THROTTLED` / `KMS_UNAVAILABLE`, after the SDK's own; off when absent. */
  readonly retry?: RetryPolicy | undefined;
  /** Decrypt: when the KEK being tried has not answered after this long, start the next one too. */
  readonly hedgeAfterMs?: number | undefined;
  /**
   * Encrypt, when an extra KEK is unreachable (`KMS_UNAVAILABLE`, `KMS_THROTTLED`, a call timeout):
   * "fail" (default) fails the encrypt; "skip" makes the envelope without that KEK's entry and
   * reports it as a `kek.skipped` event. The primary is never skipped.
   */
  readonly unreachableExtras?: "fail" | "skip" | undefined;
}

/** The KMS-economy part of `KeyringOptions`. */
export interface KeyringEconomyOptions {
  /** A data-key cache (`createDataKeyCache`); may be shared by several keyrings. */
  readonly cache?: DataKeyCache | undefined;
  /**
   * Encrypt-side entries are partitioned by keyring (each keyring its own
   * partition unless this names one) and by exact context; decrypt-side
   * entries by this partition when given.
   */
  readonly cachePartition?: string | undefined;
  readonly kms?: KmsPolicy | undefined;
  /** Receives every KMS call, cache hit/miss, retry, failover, rate-limit and skip (never key material). */
  readonly onEvent?: KmsEventListener | undefined;
}

/** What core's operations read off a keyring that has any of the options above. */
export interface KeyringEconomy {
  readonly deadlineMs: number | undefined;
  readonly hedgeAfterMs: number | undefined;
  readonly skipUnreachableExtras: boolean;
  readonly cache: CacheInternals | undefined;
  /** Encrypt-side partition: the caller's, or one of this keyring's own. */
  readonly encryptPartition: string;
  /** Decrypt-side partition: the caller's, or "" (shared by keyrings that allow the same KEK). */
  readonly decryptPartition: string;
  readonly onEvent: KmsEventListener | undefined;
  /** The KEK with deadlines, rate limit, retries and events around each call. */
  guard(kek: KeyEncryptionKey): KeyEncryptionKey;
}

const optionalMs = (value: unknown, name: string): number | undefined => {
  if (value === undefined) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value) || value < 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", `kms.${name} must be a finite number of ms >= 0`);
  }
  return value;
};

/** Undefined when no option is set: such a keyring runs exactly as before (no wrapper, no cost). */
export function createKeyringEconomy(options: KeyringEconomyOptions): KeyringEconomy | undefined {
  const { cache, cachePartition, kms, onEvent } = options;
  if (cache === undefined && cachePartition === undefined && kms === undefined && onEvent === undefined) {
    return undefined;
  }
  if (onEvent !== undefined && typeof onEvent !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "onEvent must be a function");
  }
  if (cachePartition !== undefined && (typeof cachePartition !== "string" || cachePartition === "")) {
    throw new EnvelopeError("INVALID_ARGUMENT", "cachePartition must be a non-empty string");
  }
  if (kms !== undefined && (kms === null || typeof kms !== "object")) {
    throw new EnvelopeError("INVALID_ARGUMENT", "kms must be an options object");
  }
  const callTimeoutMs = optionalMs(kms?.callTimeoutMs, "callTimeoutMs");
  const deadlineMs = optionalMs(kms?.deadlineMs, "deadlineMs");
  const hedgeAfterMs = optionalMs(kms?.hedgeAfterMs, "hedgeAfterMs");
  const rateLimit = kms?.rateLimit;
  if (rateLimit !== undefined) validateRateLimit(rateLimit);
  const retry = resolveRetryPolicy(kms?.retry);
  const unreachable = kms?.unreachableExtras ?? "fail";
  if (unreachable !== "fail" && unreachable !== "skip") {
    throw new EnvelopeError("INVALID_ARGUMENT", 'kms.unreachableExtras must be "fail" or "skip"');
  }
  const limiters = new Map<string, KekLimiter>();
  const settings = { callTimeoutMs, retry, onEvent };
  return Object.freeze({
    deadlineMs,
    hedgeAfterMs,
    skipUnreachableExtras: unreachable === "skip",
    cache: cache === undefined ? undefined : cacheInternals(cache),
    encryptPartition: cachePartition ?? `keyring:${randomUUID()}`,
    decryptPartition: cachePartition ?? "",
    onEvent,
    guard(kek: KeyEncryptionKey) {
      const id = `${kek.provider}\n${kek.keyId}`;
      let limiter = limiters.get(id);
      if (limiter === undefined) {
        limiter = createKekLimiter(rateLimit, retry);
        limiters.set(id, limiter);
      }
      return guardKek(kek, settings, limiter);
    },
  });
}
