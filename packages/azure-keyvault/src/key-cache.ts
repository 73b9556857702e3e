import { createPublicKey, type KeyObject } from "node:crypto";
import type { TokenCredential } from "@azure/core-auth";
import {
  CryptographyClient,
  type CryptographyClientOptions,
  KeyClient,
  type KeyVaultKey,
} from "@azure/keyvault-keys";
import { createPromiseCache, kmsError } from "@kms-envelope/core";
import { keyVaultErrors } from "./errors.js";
import type { KeyVaultKeyId } from "./key-id.js";

/** One key version as read from Key Vault, with the clients that use it. */
export interface CachedKey {
  readonly key: KeyVaultKey;
  /** Built from the key itself, so the SDK skips its own keys/get before each first operation. */
  readonly crypto: CryptographyClient;
  /** The RSA public key, for wrapLocally; undefined for AES keys. */
  readonly publicKey: KeyObject | undefined;
  /** The RSA modulus length in bytes, i.e. the wrapped length. */
  readonly modulusBytes: number | undefined;
}

/**
 * Reads are shared: a burst of first encrypts makes one keys/get, not one
 * each (Key Vault throttles per vault). A caller's AbortSignal therefore
 * abandons its wait, not the shared request. Failures are not kept.
 */
export function createKeyCache(options: {
  readonly keyId: KeyVaultKeyId;
  readonly credential: () => Promise<TokenCredential>;
  readonly clientOptions: () => Promise<CryptographyClientOptions>;
  readonly ttlMs: number;
}) {
  const { keyId, ttlMs } = options;
  let keyClient: KeyClient | undefined;
  const cache = createPromiseCache(
    async (version: string): Promise<CachedKey> => {
      try {
        const credential = await options.credential();
        const clientOptions = await options.clientOptions();
        keyClient ??= new KeyClient(keyId.vaultUrl, credential, { ...clientOptions });
        const key = await keyClient.getKey(keyId.name, { version });
        const { n, e } = key.key ?? {};
        // Node reads n and e as unsigned integers, so a modulus with a leading zero byte (which RFC 7518
        // §6.3.1.1 forbids but warns some producers add) gives the same key and modulus length.
        const publicKey =
          n === undefined || e === undefined
            ? undefined
            : createPublicKey({ key: { kty: "RSA", n: base64url(n), e: base64url(e) }, format: "jwk" });
        const bits = publicKey?.asymmetricKeyDetails?.modulusLength;
        const entry = {
          key,
          crypto: new CryptographyClient(key, credential, { ...clientOptions }),
          publicKey,
          modulusBytes: bits === undefined ? undefined : Math.ceil(bits / 8),
        };
        // Also filed under its version: unwraps of envelopes this version just wrapped need no read.
        if (version === "" && key.properties.version !== undefined) cache.set(key.properties.version, entry);
        return entry;
      } catch (error) {
        const which = version === "" ? keyId.unversioned : `${keyId.unversioned}/${version}`;
        throw kmsError("Key Vault", "GetKey", which, error, keyVaultErrors);
      }
    },
    { ttlMs },
  );
  return {
    /** The key at `version` ("" for the current version), read at most once per `ttlMs`. */
    read: (version: string, signal: AbortSignal | undefined) => cache.get(version, signal),
  };
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
