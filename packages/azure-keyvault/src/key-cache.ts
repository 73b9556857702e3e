import { createPublicKey, type KeyObject } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyVaultKey,
} from "@azure/keyvault-keys";
import { EnvelopeError } from "@kms-envelope/core";
import { toKeyVaultError } from "./errors.js";
import type { KeyVaultKeyId } from "./key-id.js";

/** One key version as read from Key Vault, with the clients that use it. */
export interface CachedKey {
  readonly key: KeyVaultKey;
  /** Built from the key itself, so the SDK skips its own keys/get before each first operation. */
  readonly crypto: CryptographyClient;
  /** The RSA public key, for wrapLocally; undefined for AES keys. */
  readonly publicKey: KeyObject | undefined;
  readonly at: number;
}

export interface KeyCache {
  /** The key at `version` ("" for the current version), read at most once per `ttlMs`. */
  read(version: string, signal: AbortSignal | undefined): Promise<CachedKey>;
}

export interface KeyCacheOptions {
  readonly keyId: KeyVaultKeyId;
  readonly credential: () => Promise<TokenCredential>;
  readonly clientOptions: CryptographyClientOptions;
  readonly ttlMs: number;
}

/**
 * Reads are shared: a burst of first encrypts makes one keys/get, not one
 * each (Key Vault throttles per vault). A caller's AbortSignal therefore
 * abandons its wait, not the shared request.
 */
export function createKeyCache(options: KeyCacheOptions): KeyCache {
  const { keyId, clientOptions, ttlMs } = options;
  const cache = new Map<string, CachedKey>();
  const inflight = new Map<string, Promise<CachedKey>>();
  let keyClient: KeyClient | undefined;

  async function load(version: string): Promise<CachedKey> {
    const credential = await options.credential();
    try {
      keyClient ??= new KeyClient(keyId.vaultUrl, credential, { ...clientOptions });
      const key = await keyClient.getKey(keyId.name, { version });
      const { n, e } = key.key ?? {};
      const publicKey =
        n === undefined || e === undefined
          ? undefined
          : createPublicKey({
              key: {
                kty: "RSA",
                n: Buffer.from(n).toString("base64url"),
                e: Buffer.from(e).toString("base64url"),
              },
              format: "jwk",
            });
      const entry = {
        key,
        crypto: new CryptographyClient(key, credential, { ...clientOptions }),
        publicKey,
        at: Date.now(),
      };
      cache.set(version, entry);
      if (key.properties.version !== undefined) cache.set(key.properties.version, entry);
      return entry;
    } catch (error) {
      throw toKeyVaultError(
        error,
        "get",
        version === "" ? keyId.unversioned : `${keyId.unversioned}/${version}`,
      );
    }
  }

  return {
    read(version, signal) {
      const cached = cache.get(version);
      if (cached !== undefined && Date.now() - cached.at < ttlMs) return Promise.resolve(cached);
      let pending = inflight.get(version);
      if (pending === undefined) {
        pending = load(version).finally(() => inflight.delete(version));
        inflight.set(version, pending);
      }
      return untilAborted(pending, signal);
    },
  };
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
  if (signal === undefined) return promise;
  const aborted = () => new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
  if (signal.aborted) return Promise.reject(aborted());
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
