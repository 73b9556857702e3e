import { EnvelopeError } from "../errors.js";

/**
 * Waits for `promise`, or rejects with `ABORTED` as soon as `signal` fires,
 * whichever comes first. The promise itself runs on: use it to end one
 * caller's wait on shared work, or on an SDK call that ignores its signal.
 */
export function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const aborted = () => new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(aborted());
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted());
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener("abort", onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener("abort", onAbort);
        reject(error);
      },
    );
  });
}
