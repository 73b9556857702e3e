import { EnvelopeError } from "../errors.js";
import { DEK_LENGTH } from "../format/constants.js";
import type { WrappedKeyEntry } from "../format/header.js";
import { type DataKeyCacheOptions, resolveCacheOptions } from "./cache-options.js";
import { type CacheSide, type EvictReason, emit, type KmsEventListener } from "./events.js";

export type { DataKeyCacheOptions, DecryptCacheOptions, EncryptCacheOptions } from "./cache-options.js";

import { type SharedCall, startSharedCall } from "./single-flight.js";

/**
 * A bounded, opt-in cache of data keys, shared by the keyrings given it.
 * Every DEK it holds is zeroed when it leaves: on expiry, when a bound is
 * used up, on LRU eviction and on `dispose()`. After `dispose()` keyrings
 * that hold it make a KMS call per message again.
 */
export interface DataKeyCache {
  /** Entries held now, per side. */
  readonly size: { readonly encrypt: number; readonly decrypt: number };
  readonly disposed: boolean;
  /** Zeroes and drops every entry; later operations bypass the cache. */
  dispose(): void;
  [Symbol.dispose](): void;
  [Symbol.asyncDispose](): Promise<void>;
}

/** What the encrypt side shares between messages: one DEK and its wrapped form. */
export interface DataKeyMaterials {
  readonly dek: Uint8Array;
  readonly wrappedKeys: readonly WrappedKeyEntry[];
  readonly wrappedKeyList: Uint8Array;
  /** False when an extra KEK was skipped: such materials serve only the messages that waited for them. */
  readonly cacheable: boolean;
}

interface Named {
  readonly provider: string;
  readonly keyId: string;
}

/** Core's own access to a cache (module-private: a caller sees only `DataKeyCache`). */
export interface CacheInternals {
  readonly encryptEnabled: boolean;
  readonly decryptEnabled: boolean;
  /** Materials for one message of `bytes` plaintext bytes; the returned DEK is the caller's to zero. */
  encryptMaterials(
    key: string,
    bytes: number,
    named: Named,
    make: (signal: AbortSignal | undefined) => Promise<DataKeyMaterials>,
    signal: AbortSignal | undefined,
    onEvent: KmsEventListener | undefined,
  ): Promise<DataKeyMaterials>;
  /** The DEK for one exact (entry, context); the returned buffer is the caller's to zero. */
  unwrap(
    key: string,
    named: Named,
    make: (signal: AbortSignal | undefined) => Promise<Uint8Array>,
    signal: AbortSignal | undefined,
    onEvent: KmsEventListener | undefined,
  ): Promise<Uint8Array>;
}

const internals = new WeakMap<DataKeyCache, CacheInternals>();

export function cacheInternals(cache: DataKeyCache): CacheInternals {
  const found = internals.get(cache);
  if (found === undefined)
    throw new EnvelopeError("INVALID_ARGUMENT", "cache must come from createDataKeyCache");
  return found;
}

interface Entry {
  readonly named: Named;
  readonly dek: Uint8Array;
  readonly expiresAt: number;
  timer: ReturnType<typeof setTimeout> | undefined;
}

interface EncryptEntry extends Entry {
  readonly materials: DataKeyMaterials;
  messages: number;
  bytes: number;
}

/**
 * The call in flight for `key`, or a new one. `settle` sees the result before
 * any waiter does (it files it in the cache); the flight is forgotten once it
 * settles, so a failure is shared by its waiters and never kept.
 */
function flightFor<T>(
  flights: Map<string, SharedCall<T>>,
  key: string,
  make: (signal: AbortSignal | undefined) => Promise<T>,
  settle: (value: T) => void,
): SharedCall<T> {
  const found = flights.get(key);
  if (found !== undefined) return found;
  const flight = startSharedCall(make);
  flights.set(key, flight);
  flight.promise.then(
    (value) => {
      flights.delete(key);
      settle(value);
    },
    () => flights.delete(key),
  );
  return flight;
}

const copy = (dek: Uint8Array): Uint8Array => Uint8Array.prototype.slice.call(dek);
const zero = (dek: Uint8Array): void => {
  dek.fill(0);
};

export function createDataKeyCache(options: DataKeyCacheOptions): DataKeyCache {
  const { enc, dec } = resolveCacheOptions(options);
  const now = options.now ?? (() => performance.now());
  const listener = options.onEvent;
  // Map order is recency order: a hit deletes and re-inserts its key.
  const encryptEntries = new Map<string, EncryptEntry>();
  const decryptEntries = new Map<string, Entry>();
  const encryptFlights = new Map<string, SharedCall<DataKeyMaterials>>();
  const decryptFlights = new Map<string, SharedCall<Uint8Array>>();
  let disposed = false;

  function evict<E extends Entry>(map: Map<string, E>, key: string, side: CacheSide, reason: EvictReason) {
    const entry = map.get(key);
    if (entry === undefined) return;
    map.delete(key);
    if (entry.timer !== undefined) clearTimeout(entry.timer);
    zero(entry.dek);
    emit(listener, { type: "cache.evict", side, reason, ...entry.named });
  }

  function insert<E extends Entry>(
    map: Map<string, E>,
    key: string,
    entry: E,
    side: CacheSide,
    capacity: number,
  ) {
    evict(map, key, side, "capacity");
    map.set(key, entry);
    const timer = setTimeout(() => {
      if (map.get(key) === entry) evict(map, key, side, "expired");
    }, entry.expiresAt - now());
    timer.unref?.();
    entry.timer = timer;
    while (map.size > capacity) evict(map, map.keys().next().value as string, side, "capacity");
  }

  /** Reserves one message of `bytes` from the partition's entry; undefined when it cannot serve it. */
  function reserve(key: string, bytes: number): DataKeyMaterials | undefined {
    const entry = encryptEntries.get(key);
    if (entry === undefined || enc === undefined) return undefined;
    if (now() >= entry.expiresAt) {
      evict(encryptEntries, key, "encrypt", "expired");
      return undefined;
    }
    if (entry.messages >= enc.maxMessages || entry.bytes + bytes > enc.maxBytes) {
      evict(encryptEntries, key, "encrypt", "exhausted");
      return undefined;
    }
    entry.messages++;
    entry.bytes += bytes;
    const own = { ...entry.materials, dek: copy(entry.dek) };
    if (entry.messages === enc.maxMessages || entry.bytes === enc.maxBytes) {
      evict(encryptEntries, key, "encrypt", "exhausted");
    } else {
      encryptEntries.delete(key);
      encryptEntries.set(key, entry);
    }
    return own;
  }

  const inner: CacheInternals = {
    encryptEnabled: enc !== undefined,
    decryptEnabled: dec !== undefined,

    async encryptMaterials(key, bytes, named, make, signal, onEvent) {
      if (disposed || enc === undefined || bytes > enc.maxBytes) return make(signal);
      let missed = false;
      for (;;) {
        const hit = reserve(key, bytes);
        if (hit !== undefined) {
          if (!missed) emit(onEvent, { type: "cache.hit", side: "encrypt", ...named });
          return hit;
        }
        if (!missed) emit(onEvent, { type: "cache.miss", side: "encrypt", ...named });
        missed = true;
        if (disposed) return make(signal);
        const flight = flightFor(encryptFlights, key, make, (materials) => {
          if (materials.cacheable && !disposed && materials.dek.length === DEK_LENGTH) {
            const entry: EncryptEntry = {
              named,
              dek: materials.dek,
              materials,
              expiresAt: now() + enc.maxAgeMs,
              timer: undefined,
              messages: 0,
              bytes: 0,
            };
            insert(encryptEntries, key, entry, "encrypt", enc.capacity);
          } else {
            // Not kept: each waiter copies it first (their reactions are already queued).
            queueMicrotask(() => zero(materials.dek));
          }
        });
        const own = await flight.join(
          signal,
          (materials) =>
            materials.cacheable && materials.dek.length === DEK_LENGTH && !disposed
              ? reserve(key, bytes)
              : { ...materials, dek: copy(materials.dek) },
          (late) => late && zero(late.dek),
        );
        if (own !== undefined) return own;
      }
    },

    async unwrap(key, named, make, signal, onEvent) {
      if (disposed || dec === undefined) return make(signal);
      const entry = decryptEntries.get(key);
      if (entry !== undefined) {
        if (now() < entry.expiresAt) {
          decryptEntries.delete(key);
          decryptEntries.set(key, entry);
          emit(onEvent, { type: "cache.hit", side: "decrypt", ...named });
          return copy(entry.dek);
        }
        evict(decryptEntries, key, "decrypt", "expired");
      }
      emit(onEvent, { type: "cache.miss", side: "decrypt", ...named });
      const flight = flightFor(decryptFlights, key, make, (dek) => {
        if (dek instanceof Uint8Array && dek.length === DEK_LENGTH && !disposed) {
          const entry = { named, dek, expiresAt: now() + dec.ttlMs, timer: undefined };
          insert(decryptEntries, key, entry, "decrypt", dec.capacity);
        } else if (dek instanceof Uint8Array) {
          queueMicrotask(() => zero(dek));
        }
      });
      return flight.join(
        signal,
        (dek) => (dek instanceof Uint8Array ? copy(dek) : dek),
        (late) => {
          if (late instanceof Uint8Array) zero(late);
        },
      );
    },
  };

  const dispose = () => {
    disposed = true;
    for (const key of [...encryptEntries.keys()]) evict(encryptEntries, key, "encrypt", "dispose");
    for (const key of [...decryptEntries.keys()]) evict(decryptEntries, key, "decrypt", "dispose");
  };
  const cache: DataKeyCache = Object.freeze({
    get size() {
      return { encrypt: encryptEntries.size, decrypt: decryptEntries.size };
    },
    get disposed() {
      return disposed;
    },
    dispose,
    [Symbol.dispose]: dispose,
    [Symbol.asyncDispose]: async () => dispose(),
  });
  internals.set(cache, inner);
  return cache;
}
