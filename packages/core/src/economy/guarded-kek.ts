import { EnvelopeError, toEnvelopeError } from "../errors.js";
import type { KeyEncryptionKey } from "../kek.js";
import { untilAborted } from "../provider-kit/until-aborted.js";
import { createRetryBudget, fullJitterDelay, type ResolvedRetryPolicy, type RetryBudget } from "./backoff.js";
import { abortError, remainingMs, sleep } from "./deadline.js";
import { emit, type KmsEventListener, type KmsOperation } from "./events.js";
import { createTokenBucket, type RateLimit, type TokenBucket } from "./token-bucket.js";

/** Per-KEK state, shared by every guard of the same (provider, key id). */
export interface KekLimiter {
  readonly bucket: TokenBucket | undefined;
  readonly budget: RetryBudget;
}

export function createKekLimiter(rateLimit: RateLimit | undefined, retry: ResolvedRetryPolicy): KekLimiter {
  return {
    bucket: rateLimit === undefined ? undefined : createTokenBucket(rateLimit),
    budget: createRetryBudget(retry),
  };
}

export interface GuardSettings {
  readonly callTimeoutMs: number | undefined;
  readonly retry: ResolvedRetryPolicy;
  readonly onEvent: KmsEventListener | undefined;
  readonly random?: (() => number) | undefined;
}

const RETRYABLE = new Set(["KMS_THROTTLED", "KMS_UNAVAILABLE"]);

/** The KEK a guarded one stands for (tests and `rewrap` look through the guard). */
export const GUARDED = Symbol("kms-envelope.guarded");

/**
 * The same KEK with core's calm around every call: a per-KEK token bucket,
 * a per-call timeout enforced by core (a provider that ignores the signal
 * still loses the race, and a DEK it returns late is zeroed), retries with
 * full jitter, the service's Retry-After and a retry budget, and an event
 * per attempt. Provider, key id and matching are the wrapped KEK's.
 */
export function guardKek(
  kek: KeyEncryptionKey,
  settings: GuardSettings,
  limiter: KekLimiter,
): KeyEncryptionKey {
  const { bucket, budget } = limiter;
  const { provider } = kek;
  const listener = settings.onEvent;

  async function attemptOnce<T>(
    operation: KmsOperation,
    keyId: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal | undefined) => Promise<T>,
    discard: ((late: T) => void) | undefined,
  ): Promise<T> {
    const timeoutMs = settings.callTimeoutMs;
    if (timeoutMs === undefined) return untilAborted(invoke(run, signal), signal, discard);
    const timeout = new AbortController();
    const timer = setTimeout(() => timeout.abort(), timeoutMs);
    const combined = signal === undefined ? timeout.signal : AbortSignal.any([signal, timeout.signal]);
    try {
      return await untilAborted(invoke(run, combined), combined, discard);
    } catch (error) {
      if (timeout.signal.aborted && signal?.aborted !== true) {
        throw new EnvelopeError(
          "KMS_UNAVAILABLE",
          `deadline: ${provider} ${operation} with ${keyId} did not answer within ${timeoutMs} ms`,
        );
      }
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }

  async function waitForToken(operation: KmsOperation, keyId: string, signal: AbortSignal | undefined) {
    if (bucket === undefined) return;
    const waitMs = bucket.reserve();
    if (waitMs === 0) return;
    emit(listener, { type: "rate-limited", provider, keyId, operation, waitMs });
    if (waitMs >= remainingMs(signal)) {
      bucket.cancel();
      throw new EnvelopeError(
        "KMS_THROTTLED",
        `rate-limited: no call to ${provider} ${keyId} is free before the operation's deadline`,
      );
    }
    try {
      await sleep(waitMs, signal);
    } catch (error) {
      bucket.cancel();
      throw error;
    }
  }

  async function call<T>(
    operation: KmsOperation,
    keyId: string,
    signal: AbortSignal | undefined,
    run: (signal: AbortSignal | undefined) => Promise<T>,
    discard?: (late: T) => void,
  ): Promise<T> {
    for (let attempt = 1; ; attempt++) {
      if (signal?.aborted) throw abortError(signal);
      await waitForToken(operation, keyId, signal);
      const started = performance.now();
      let error: EnvelopeError;
      try {
        const value = await attemptOnce(operation, keyId, signal, run, discard);
        budget.earn();
        emit(listener, {
          type: `kek.${operation}`,
          provider,
          keyId,
          durationMs: performance.now() - started,
          outcome: "ok",
          attempt,
        });
        return value;
      } catch (caught) {
        error = toEnvelopeError(caught, "KMS_ERROR", `${provider} failed to ${operation} with ${keyId}`);
        emit(listener, {
          type: `kek.${operation}`,
          provider,
          keyId,
          durationMs: performance.now() - started,
          outcome: error.code,
          attempt,
        });
      }
      if (!RETRYABLE.has(error.code) || signal?.aborted || attempt >= settings.retry.maxAttempts) throw error;
      const retryAfter = error.retryAfterMs !== undefined;
      const delayMs = error.retryAfterMs ?? fullJitterDelay(attempt, settings.retry, settings.random);
      // A retry that cannot finish before the deadline only delays the failure (or the failover).
      if (delayMs >= remainingMs(signal) || !budget.trySpend()) throw error;
      emit(listener, {
        type: "retry",
        provider,
        keyId,
        operation,
        attempt: attempt + 1,
        delayMs,
        code: error.code,
        retryAfter,
      });
      await sleep(delayMs, signal);
    }
  }

  const zeroDek = (dek: Uint8Array) => {
    if (dek instanceof Uint8Array) dek.fill(0);
  };
  const guarded: KeyEncryptionKey & { [GUARDED]: KeyEncryptionKey } = {
    provider,
    keyId: kek.keyId,
    [GUARDED]: kek,
    wrap: (dek, context, options) =>
      call("wrap", kek.keyId, options?.signal, (signal) => kek.wrap(dek, context, { signal })),
    unwrap: (entry, context, options) =>
      call(
        "unwrap",
        entry.keyId,
        options?.signal,
        (signal) => kek.unwrap(entry, context, { signal }),
        zeroDek,
      ),
    ...(kek.generateDataKey === undefined
      ? {}
      : {
          generateDataKey: (context, options) =>
            call(
              "generate",
              kek.keyId,
              options?.signal,
              (signal) => kek.generateDataKey!(context, { signal }),
              (late) => zeroDek(late.plaintext),
            ),
        }),
    ...(kek.matches === undefined ? {} : { matches: (entry) => kek.matches!(entry) }),
    ...(kek.close === undefined ? {} : { close: () => kek.close!() }),
    ...(kek.reencrypt === undefined
      ? {}
      : {
          reencrypt: (entry, context, options) =>
            call("reencrypt", kek.keyId, options?.signal, (signal) =>
              kek.reencrypt!(entry, context, { signal }),
            ),
        }),
  };
  return Object.freeze(guarded);
}

function invoke<T>(run: (signal: AbortSignal | undefined) => Promise<T>, signal: AbortSignal | undefined) {
  try {
    return run(signal);
  } catch (error) {
    return Promise.reject(error);
  }
}
