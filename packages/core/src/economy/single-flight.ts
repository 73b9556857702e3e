import { untilAborted } from "../provider-kit/until-aborted.js";

/**
 * One KMS call shared by every operation that needs its result. Each waiter
 * races its own signal (its own deadline, its own cancel), so one caller
 * giving up never fails the others; the call itself is cancelled only when
 * every waiter has left. A failure reaches every waiter and is not kept.
 */
export interface SharedCall<T> {
  /** Settles with the call; reactions attached here run before any waiter's `take`. */
  readonly promise: Promise<T>;
  /**
   * Waits for the call as one more waiter. `take` runs on the shared value
   * synchronously when the call settles (so a waiter copies a DEK before
   * anyone can zero it); what `take` returns is the waiter's own, and is
   * passed to `discard` if the waiter has already left.
   */
  join<R>(signal: AbortSignal | undefined, take: (value: T) => R, discard?: (own: R) => void): Promise<R>;
}

export function startSharedCall<T>(run: (signal: AbortSignal) => Promise<T>): SharedCall<T> {
  const controller = new AbortController();
  let waiters = 0;
  let settled = false;
  let promise: Promise<T>;
  try {
    promise = run(controller.signal);
  } catch (error) {
    promise = Promise.reject(error);
  }
  promise.then(
    () => {
      settled = true;
    },
    () => {
      settled = true;
    },
  );
  return {
    promise,
    join(signal, take, discard) {
      waiters++;
      const own = untilAborted(promise.then(take), signal, discard);
      own.then(
        () => {},
        () => {
          // The last waiter to leave cancels the call nobody is waiting for any more.
          if (--waiters === 0 && !settled) controller.abort();
        },
      );
      return own;
    },
  };
}
