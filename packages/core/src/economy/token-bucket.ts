import { EnvelopeError } from "../errors.js";

export interface RateLimit {
  /** Sustained KMS calls per second allowed for one KEK. */
  readonly requestsPerSecond: number;
  /** Calls allowed at once after a quiet spell (the bucket's size); default: one second's worth, at least 1. */
  readonly burst?: number | undefined;
}

export interface TokenBucket {
  /**
   * Reserves one call: resolves to how long the caller must wait before
   * making it (0 when a token is free). Reservations are made in call order,
   * so over any window of T seconds at most `burst + rate × T` calls start.
   */
  reserve(): number;
  /** Returns a reservation that was never used (its caller gave up waiting). */
  cancel(): void;
}

export function validateRateLimit(limit: RateLimit): { rate: number; burst: number } {
  const rate = limit?.requestsPerSecond;
  if (typeof rate !== "number" || !Number.isFinite(rate) || rate <= 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "rateLimit.requestsPerSecond must be a finite number > 0");
  }
  const burst = limit.burst ?? Math.max(1, Math.floor(rate));
  if (!Number.isSafeInteger(burst) || burst < 1) {
    throw new EnvelopeError("INVALID_ARGUMENT", "rateLimit.burst must be an integer >= 1");
  }
  return { rate, burst };
}

/**
 * A token bucket that lets the balance go negative: a caller that finds no
 * token takes a debt and waits until the refill has paid it, which queues
 * callers fairly without a timer per waiter.
 */
export function createTokenBucket(
  limit: RateLimit,
  now: () => number = () => performance.now(),
): TokenBucket {
  const { rate, burst } = validateRateLimit(limit);
  const perMs = rate / 1000;
  let tokens = burst;
  let at = now();
  return {
    reserve() {
      const t = now();
      tokens = Math.min(burst, tokens + (t - at) * perMs);
      at = t;
      tokens -= 1;
      return tokens >= 0 ? 0 : Math.ceil(-tokens / perMs);
    },
    cancel() {
      tokens = Math.min(burst, tokens + 1);
    },
  };
}
