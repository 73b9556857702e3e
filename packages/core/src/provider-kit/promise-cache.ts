import { invalid, optionalObject } from "../validate.js";
import { untilAborted } from "./until-aborted.js";

export interface PromiseCacheOptions {
  /** How long a loaded value is kept, in milliseconds; default: forever. Failures are never kept. */
  readonly ttlMs?: number | undefined;
}

export interface PromiseCache<K, T> {
  /**
   * The value for `key`: loaded once and shared by every caller (a burst of
   * first calls makes one request). The load runs without any caller's
   * signal, so one caller giving up fails nobody else; `signal` only ends
   * this caller's wait (`ABORTED`).
   */
  get(key: K, signal?: AbortSignal): Promise<T>;
  /** Also file a loaded value under another key (a resolved version of "current"). */
  set(key: K, value: T): void;
  /** The value if loaded and fresh, without loading. */
  peek(key: K): T | undefined;
  /** Forget every value and every load in flight. */
  clear(): void;
}

/**
 * "Cache a promise, forget it on failure": a throttled, denied or failed
 * load is tried again by the next caller instead of being remembered.
 */
export function createPromiseCache<K, T>(
  load: (key: K) => Promise<T>,
  options: PromiseCacheOptions = {},
): PromiseCache<K, T> {
  if (typeof load !== "function") invalid("createPromiseCache", "load must be a function");
  const ttl = optionalObject(options, "createPromiseCache").ttlMs;
  if (ttl !== undefined && !(typeof ttl === "number" && ttl >= 0)) {
    invalid("createPromiseCache", "ttlMs must be a number >= 0");
  }
  const ttlMs = options.ttlMs ?? Number.POSITIVE_INFINITY;
  const loaded = new Map<K, { value: T; at: number }>();
  const pending = new Map<K, Promise<T>>();
  const fresh = (key: K) => {
    const entry = loaded.get(key);
    return entry !== undefined && Date.now() - entry.at < ttlMs ? entry : undefined;
  };
  const cache: PromiseCache<K, T> = {
    get(key, signal) {
      // An aborted caller starts nothing.
      if (signal?.aborted === true) return untilAborted(Promise.resolve(undefined as T), signal);
      const entry = fresh(key);
      if (entry !== undefined) return untilAborted(Promise.resolve(entry.value), signal);
      let loading = pending.get(key);
      if (loading === undefined) {
        const started: Promise<T> = Promise.resolve()
          .then(() => load(key))
          .then((value) => {
            if (pending.get(key) === started) cache.set(key, value);
            return value;
          })
          .finally(() => {
            if (pending.get(key) === started) pending.delete(key);
          });
        // No caller may be waiting when the load fails (all aborted): that is not an unhandled rejection.
        started.catch(() => undefined);
        pending.set(key, started);
        loading = started;
      }
      return untilAborted(loading, signal);
    },
    set(key, value) {
      loaded.set(key, { value, at: Date.now() });
    },
    peek: (key) => fresh(key)?.value,
    clear() {
      loaded.clear();
      pending.clear();
    },
  };
  return cache;
}
