import { EnvelopeError } from "../errors.js";
import { invalid, optionalSignal } from "../validate.js";

/**
 * Waits for `promise`, or rejects with `ABORTED` as soon as `signal` fires,
 * whichever comes first. The promise itself runs on: use it to end one
 * caller's wait on shared work, or on an SDK call that ignores its signal.
 * A signal whose reason is already an `EnvelopeError` (core's deadlines)
 * rejects with that reason. A value that arrives after the wait was given up
 * goes to `discard` (to zero a DEK nobody will use).
 */
export function untilAborted<T>(
  promise: Promise<T>,
  signal: AbortSignal | undefined,
  discard?: (late: T) => void,
): Promise<T> {
  if (typeof (promise as { then?: unknown } | null)?.then !== "function") {
    invalid("untilAborted", "promise must be a Promise");
  }
  optionalSignal(signal, "untilAborted");
  if (discard !== undefined && typeof discard !== "function")
    invalid("untilAborted", "discard must be a function");
  if (signal === undefined) return promise;
  const aborted = () =>
    signal.reason instanceof EnvelopeError
      ? signal.reason
      : new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
  if (signal.aborted) {
    promise.then(discard, () => undefined);
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    let gaveUp = false;
    const onAbort = () => {
      gaveUp = true;
      reject(aborted());
    };
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        if (gaveUp) discard?.(value);
        else resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}

/**
 * An SDK's per-call `{ abortSignal }` option (the AWS SDK's and Azure's
 * spelling), absent rather than `undefined` when there is no signal, as
 * `exactOptionalPropertyTypes` wants.
 */
export function abortSignalOption(signal: AbortSignal | undefined): { abortSignal?: AbortSignal } {
  optionalSignal(signal, "abortSignalOption");
  return signal === undefined ? {} : { abortSignal: signal };
}
