import { EnvelopeError } from "../errors.js";
import { untilAborted } from "../provider-kit/until-aborted.js";

/** Absolute deadlines (in `performance.now()` ms) of the signals `operationSignal` made. */
const deadlines = new WeakMap<AbortSignal, number>();

export interface OperationSignal {
  readonly signal: AbortSignal | undefined;
  /** Clears the deadline's timer once the operation is over. */
  done(): void;
}

const NO_DEADLINE: OperationSignal = { signal: undefined, done() {} };

/**
 * The signal one operation (an encrypt, a decrypt, a rewrap) hands to every
 * KMS call it makes: the caller's signal, plus the keyring's overall
 * deadline when one is set. The deadline aborts like the caller's own
 * signal would (`ABORTED`, naming the deadline), and guarded calls read it
 * back to never start a wait or a retry that cannot finish in time.
 */
export function operationSignal(
  caller: AbortSignal | undefined,
  deadlineMs: number | undefined,
): OperationSignal {
  if (deadlineMs === undefined) return caller === undefined ? NO_DEADLINE : { signal: caller, done() {} };
  const controller = new AbortController();
  const timer = setTimeout(
    () =>
      controller.abort(
        new EnvelopeError("ABORTED", `deadline: the operation did not finish within ${deadlineMs} ms`),
      ),
    deadlineMs,
  );
  timer.unref?.();
  const signal = caller === undefined ? controller.signal : AbortSignal.any([caller, controller.signal]);
  deadlines.set(signal, performance.now() + deadlineMs);
  return { signal, done: () => clearTimeout(timer) };
}

/** Milliseconds left before the operation's deadline; Infinity without one. */
export function remainingMs(signal: AbortSignal | undefined): number {
  const at = signal === undefined ? undefined : deadlines.get(signal);
  return at === undefined ? Number.POSITIVE_INFINITY : at - performance.now();
}

/** The typed error for a fired signal: its reason when that is already typed, else `ABORTED`. */
export function abortError(signal: AbortSignal): EnvelopeError {
  const reason: unknown = signal.reason;
  if (reason instanceof EnvelopeError) return reason;
  return new EnvelopeError("ABORTED", "the operation was aborted", { cause: reason });
}

/** Waits `ms`, or rejects when `signal` fires. */
export function sleep(ms: number, signal: AbortSignal | undefined): Promise<void> {
  if (ms <= 0 && signal?.aborted !== true) return Promise.resolve();
  return untilAborted(
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      signal?.addEventListener("abort", () => clearTimeout(timer), { once: true });
    }),
    signal,
  );
}

/** A signal that fires with `parent` or on `cancel()`, under the same deadline (a hedged attempt). */
export function childSignal(parent: AbortSignal | undefined): { signal: AbortSignal; cancel(): void } {
  const controller = new AbortController();
  const signal = parent === undefined ? controller.signal : AbortSignal.any([parent, controller.signal]);
  const at = parent === undefined ? undefined : deadlines.get(parent);
  if (at !== undefined) deadlines.set(signal, at);
  return { signal, cancel: () => controller.abort() };
}
