import { createPublicKey } from "node:crypto";
import { readFile } from "node:fs/promises";
import { CryptographyClient, type CryptographyClientOptions, KeyClient } from "@azure/keyvault-keys";
import { createPromiseCache, EnvelopeError, kmsError } from "@kms-envelope/core";
import { credentialLoader } from "./credential.js";
import { azureKeyVaultErrors } from "./errors.js";
import type { KeyVaultKeyId } from "./key-id.js";
import type { AzureKeyVaultKekOptions } from "./options.js";

/** The SDK clients' options: the caller's, with the CA from `caFile`. */
async function clientOptionsOf(options: AzureKeyVaultKekOptions): Promise<CryptographyClientOptions> {
  const base: CryptographyClientOptions = { ...options.clientOptions };
  // An emulator on 127.0.0.1 answers the bearer challenge for a resource that is not its host.
  if (options.insecureTestCredentials === true) base.disableChallengeResourceVerification = true;
  if (options.caFile === undefined) return base;
  const ca = await readFile(options.caFile, "utf8").catch((error: unknown) => {
    throw new EnvelopeError("INVALID_ARGUMENT", `caFile ${options.caFile} cannot be read`, { cause: error });
  });
  return { ...base, tlsOptions: { ...base.tlsOptions, ca } };
}

/**
 * Key Vault's key versions ("" for the current one), each read at most once
 * per `ttlMs`, with the CryptographyClient that uses it. Reads are shared: a
 * burst of first encrypts makes one keys/get, not one each (Key Vault
 * throttles per vault). A caller's AbortSignal therefore abandons its wait,
 * not the shared request. Failures are not kept. `keyCacheMs` and the
 * credential options are checked now, when the KEK is made.
 */
export function createKeyCache(keyId: KeyVaultKeyId, options: AzureKeyVaultKekOptions) {
  const ttlMs = options.keyCacheMs ?? 5 * 60_000;
  if (!(ttlMs >= 0)) throw new EnvelopeError("INVALID_ARGUMENT", "keyCacheMs must be a number >= 0");
  const loadCredential = credentialLoader(options, keyId.vaultUrl);
  // Made on the first read; a failure (no @azure/identity, an unreadable caFile) is retried by the next.
  const clients = createPromiseCache(async () => {
    const credential = await loadCredential();
    const clientOptions = await clientOptionsOf(options);
    const keys = new KeyClient(keyId.vaultUrl, credential, { ...clientOptions });
    return { credential, clientOptions, keys };
  });
  const cache = createPromiseCache(
    async (version: string) => {
      try {
        const { credential, clientOptions, keys } = await clients.get(undefined);
        const key = await keys.getKey(keyId.name, { version });
        const { n, e } = key.key ?? {};
        // Node reads n and e as unsigned integers, so a modulus with a leading zero byte (which RFC 7518
        // §6.3.1.1 forbids but warns some producers add) gives the same key and modulus length.
        const publicKey =
          n === undefined || e === undefined
            ? undefined
            : createPublicKey({ key: { kty: "RSA", n: base64url(n), e: base64url(e) }, format: "jwk" });
        // The RSA modulus length in bytes is the wrapped length.
        const bits = publicKey?.asymmetricKeyDetails?.modulusLength;
        const entry = {
          key,
          // Built from the key itself, so the SDK skips its own keys/get before each first operation.
          crypto: new CryptographyClient(key, credential, { ...clientOptions }),
          publicKey,
          modulusBytes: bits === undefined ? undefined : Math.ceil(bits / 8),
        };
        // Also filed under its version: unwraps of envelopes this version just wrapped need no read.
        if (version === "" && key.properties.version !== undefined) cache.set(key.properties.version, entry);
        return entry;
      } catch (error) {
        const which = version === "" ? keyId.unversioned : `${keyId.unversioned}/${version}`;
        throw kmsError("Key Vault", "GetKey", which, error, azureKeyVaultErrors);
      }
    },
    { ttlMs },
  );
  return cache;
}

const base64url = (bytes: Uint8Array) => Buffer.from(bytes).toString("base64url");
