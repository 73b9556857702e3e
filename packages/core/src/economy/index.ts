export type { RetryPolicy } from "./backoff.js";
export {
  createDataKeyCache,
  type DataKeyCache,
  type DataKeyCacheOptions,
  type DecryptCacheOptions,
  type EncryptCacheOptions,
} from "./data-key-cache.js";
export type {
  CacheEvictEvent,
  CacheHitEvent,
  CacheSide,
  EvictReason,
  FailoverEvent,
  KekCallEvent,
  KekSkippedEvent,
  KmsEvent,
  KmsEventListener,
  KmsOperation,
  RateLimitedEvent,
  RetryEvent,
} from "./events.js";
export type { KeyringEconomyOptions, KmsPolicy } from "./keyring-economy.js";
export type { RateLimit } from "./token-bucket.js";
