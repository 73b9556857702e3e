import {
  createDataKeyCache,
  type DataKeyCache,
  EnvelopeError,
  type KeyringEconomyOptions,
  type KmsEventListener,
  type KmsPolicy,
} from "@kms-envelope/core";
import type { ProfileConfig } from "./types.js";

/** Code-only KMS-economy options a program passes next to the file (they win over it). */
export interface CodeEconomyOptions {
  /** A cache to use instead of one made from the profile's `cache` section (e.g. shared by profiles). */
  readonly cache?: DataKeyCache | undefined;
  /** Receives the keyring's events (KMS calls, cache hits, retries…) and the cache's evictions. */
  readonly onEvent?: KmsEventListener | undefined;
}

/**
 * The keyring options for a profile's `cache` and `limits` sections
 * (docs/caching.md): a new data-key cache per keyring unless the program
 * passes one, the limits as the keyring's `kms` policy. Core validates the
 * values again (`INVALID_ARGUMENT`); the loader has already checked types,
 * ranges and required fields with file and line.
 */
export function economyFor(
  profile: ProfileConfig,
  code: CodeEconomyOptions = {},
): { options: KeyringEconomyOptions; cache: DataKeyCache | undefined } {
  if (code.cache !== undefined && (code.cache === null || typeof code.cache.dispose !== "function")) {
    throw new EnvelopeError("INVALID_ARGUMENT", "cache must come from createDataKeyCache");
  }
  if (code.onEvent !== undefined && typeof code.onEvent !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "onEvent must be a function");
  }
  const { cache: settings, limits } = profile;
  const cache =
    code.cache ??
    (settings === undefined
      ? undefined
      : createDataKeyCache({
          ...(settings.encrypt === undefined ? {} : { encrypt: { ...settings.encrypt } }),
          ...(settings.decrypt === undefined ? {} : { decrypt: { ...settings.decrypt } }),
          ...(code.onEvent === undefined ? {} : { onEvent: code.onEvent }),
        }));
  const kms: KmsPolicy | undefined = limits === undefined ? undefined : { ...limits };
  const options: KeyringEconomyOptions = {
    ...(cache === undefined ? {} : { cache }),
    ...(settings?.partition === undefined ? {} : { cachePartition: settings.partition }),
    ...(kms === undefined ? {} : { kms }),
    ...(code.onEvent === undefined ? {} : { onEvent: code.onEvent }),
  };
  return { options, cache };
}
