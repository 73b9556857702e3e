import { EnvelopeError } from "../errors.js";

export interface RetryPolicy {
  /** Attempts per KMS call, the first included (1 = no retry). Default 3. */
  readonly maxAttempts?: number | undefined;
  /** The first retry waits up to this long (full jitter: uniform in 0..cap). Default 50 ms. */
  readonly baseDelayMs?: number | undefined;
  /** The cap doubles per retry up to this. Default 2,000 ms. */
  readonly maxDelayMs?: number | undefined;
  /**
   * Retry budget per KEK, so retries cannot multiply an outage: each retry
   * spends a token, each success earns `ratio` of one, up to `tokens`.
   * Default `{ tokens: 10, ratio: 0.1 }` (at most ~10% extra calls in steady state).
   */
  readonly budget?: { readonly tokens?: number | undefined; readonly ratio?: number | undefined } | undefined;
}

export interface ResolvedRetryPolicy {
  readonly maxAttempts: number;
  readonly baseDelayMs: number;
  readonly maxDelayMs: number;
  readonly budgetTokens: number;
  readonly budgetRatio: number;
}

const nonNegative = (value: unknown, name: string, fallback: number, integer = false): number => {
  if (value === undefined) return fallback;
  if (
    typeof value !== "number" ||
    !Number.isFinite(value) ||
    value < 0 ||
    (integer && !Number.isInteger(value))
  ) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `retry.${name} must be a finite ${integer ? "integer" : "number"} >= 0`,
    );
  }
  return value;
};

export function resolveRetryPolicy(policy: RetryPolicy | undefined): ResolvedRetryPolicy {
  if (policy === undefined) {
    return { maxAttempts: 1, baseDelayMs: 50, maxDelayMs: 2000, budgetTokens: 10, budgetRatio: 0.1 };
  }
  const maxAttempts = nonNegative(policy.maxAttempts, "maxAttempts", 3, true);
  if (maxAttempts < 1) throw new EnvelopeError("INVALID_ARGUMENT", "retry.maxAttempts must be >= 1");
  return {
    maxAttempts,
    baseDelayMs: nonNegative(policy.baseDelayMs, "baseDelayMs", 50),
    maxDelayMs: nonNegative(policy.maxDelayMs, "maxDelayMs", 2000),
    budgetTokens: nonNegative(policy.budget?.tokens, "budget.tokens", 10),
    budgetRatio: nonNegative(policy.budget?.ratio, "budget.ratio", 0.1),
  };
}

/** "Full jitter" (AWS Architecture Blog): uniform in 0..min(max, base × 2^(retry−1)). */
export function fullJitterDelay(
  retry: number,
  policy: Pick<ResolvedRetryPolicy, "baseDelayMs" | "maxDelayMs">,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.floor(random() * cap);
}

export interface RetryBudget {
  /** Takes a token for one retry; false when the budget is spent. */
  trySpend(): boolean;
  /** A call succeeded: earn back `ratio` of a token. */
  earn(): void;
}

export function createRetryBudget(
  policy: Pick<ResolvedRetryPolicy, "budgetTokens" | "budgetRatio">,
): RetryBudget {
  let tokens = policy.budgetTokens;
  return {
    trySpend() {
      if (tokens < 1) return false;
      tokens -= 1;
      return true;
    },
    earn() {
      tokens = Math.min(policy.budgetTokens, tokens + policy.budgetRatio);
    },
  };
}
