import type { ErrorCode } from "../errors.js";

/** The KMS operation a call made, as events and spans name it. */
export type KmsOperation = "wrap" | "unwrap" | "generate" | "reencrypt";

/** Which side of the data-key cache an event is about. */
export type CacheSide = "encrypt" | "decrypt";

/** Why a cache entry left the cache (its key material zeroed). */
export type EvictReason = "expired" | "exhausted" | "capacity" | "dispose";

interface KeyNamed {
  /** Provider id, e.g. "aws-kms". */
  readonly provider: string;
  /** The KEK's key id (configured, or the one recorded in the envelope entry). */
  readonly keyId: string;
}

/** One KMS call (one attempt: a retried call reports each attempt). */
export interface KekCallEvent extends KeyNamed {
  readonly type: `kek.${KmsOperation}`;
  readonly durationMs: number;
  /** "ok", or the error code the attempt ended with. */
  readonly outcome: "ok" | ErrorCode;
  /** 1 for the first attempt. */
  readonly attempt: number;
}

export interface CacheHitEvent extends KeyNamed {
  readonly type: "cache.hit" | "cache.miss";
  readonly side: CacheSide;
}

export interface CacheEvictEvent extends KeyNamed {
  readonly type: "cache.evict";
  readonly side: CacheSide;
  readonly reason: EvictReason;
}

export interface RetryEvent extends KeyNamed {
  readonly type: "retry";
  readonly operation: KmsOperation;
  /** The attempt about to start (2 for the first retry). */
  readonly attempt: number;
  readonly delayMs: number;
  /** The code of the failed attempt. */
  readonly code: ErrorCode;
  /** Whether the delay came from the service's Retry-After. */
  readonly retryAfter: boolean;
}

export interface FailoverEvent extends KeyNamed {
  readonly type: "failover";
  /** "error": the KEK failed (its code given); "hedge": it was slow and the next one started too. */
  readonly reason: "error" | "hedge";
  readonly code?: ErrorCode;
}

export interface RateLimitedEvent extends KeyNamed {
  readonly type: "rate-limited";
  readonly operation: KmsOperation;
  /** How long the call waits for a token (it fails at once when that passes its deadline). */
  readonly waitMs: number;
}

export interface KekSkippedEvent extends KeyNamed {
  readonly type: "kek.skipped";
  readonly code: ErrorCode;
}

/**
 * Everything the keyring reports. Events carry ids, durations and codes:
 * never key material, a DEK, wrapped bytes or plaintext (test: economy-events).
 */
export type KmsEvent =
  | KekCallEvent
  | CacheHitEvent
  | CacheEvictEvent
  | RetryEvent
  | FailoverEvent
  | RateLimitedEvent
  | KekSkippedEvent;

export type KmsEventListener = (event: KmsEvent) => void;

/** Delivers an event; a listener that throws must not break encryption, so its error is dropped. */
export function emit(listener: KmsEventListener | undefined, event: KmsEvent): void {
  if (listener === undefined) return;
  try {
    listener(Object.freeze(event));
  } catch {
    // An observer's failure is not the operation's failure.
  }
}
