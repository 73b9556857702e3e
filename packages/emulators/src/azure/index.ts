import { randomBytes } from "node:crypto";
import { once } from "node:events";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { CryptographyClient, type CryptographyClientOptions, KeyClient } from "@azure/keyvault-keys";
import {
  type CallCounter,
  createCallCounter,
  createFaultController,
  type FaultController,
} from "../faults.js";
import { holdIdleConnections } from "../keep-alive.js";
import { persistStore } from "../state-file.js";
import { createEmulatorCertificate } from "./certificate.js";
import { type EmulatedKeyType, type KeyOperation, KeyStore } from "./key-store.js";
import { ALL_KEY_PERMISSIONS, type KeyPermission, listeningPort, startHttpsServer } from "./server.js";

export { createEmulatorCertificate, type EmulatorCertificate } from "./certificate.js";
export {
  type EntraIdAuthority,
  type EntraIdAuthorityOptions,
  startEntraIdAuthority,
} from "./entra-id-authority.js";
export {
  APP_SERVICE_IDENTITY_API_VERSION,
  type ManagedIdentityEndpoint,
  type ManagedIdentityEndpointOptions,
  startManagedIdentityEndpoint,
} from "./managed-identity-endpoint.js";
export type { TokenIssuingVault, TokenRequestRecord } from "./token-issuer.js";

export type { EmulatedKeyType, KeyOperation, KeyPermission };

/** The bearer token every Azure emulator accepts with every permission. */
export const INSECURE_TEST_TOKEN = "kms-envelope-insecure-test-token";

/** The tenant every Key Vault emulator's bearer challenge names. */
export const EMULATOR_TENANT_ID = "00000000-0000-0000-0000-000000000001";

export interface AzureKeyVaultEmulatorOptions {
  /** TCP port on loopback; 0 (default) picks a free one. */
  port?: number | undefined;
  /**
   * Host name in `vaultUrl`: "127.0.0.1" (default) or "localhost" (served on 127.0.0.1 and, where
   * there is IPv6, on ::1 too). Not "[::1]": the SDK's HTTP client cannot reach bracketed IPv6 URLs.
   */
  host?: "127.0.0.1" | "localhost" | undefined;
  /** Resource named in the bearer challenge: "https://vault.azure.net" (default) or "https://managedhsm.azure.net". */
  resource?: string | undefined;
  /** The TLS key and certificate (PEM); a fresh self-signed pair valid 7 days when absent. */
  tls?: { readonly key: string; readonly cert: string } | undefined;
  /**
   * Any bearer token grants every key permission: for the emulators command,
   * so a client with any credential that yields a token can talk to it. Off in tests.
   */
  acceptAnyToken?: boolean | undefined;
  /**
   * Keys (and deleted keys) are loaded from this JSON file when it exists and
   * saved to it after every change, so they survive a restart: use a fixed
   * `port`, since key ids carry it. It holds key material in clear (0600):
   * development only.
   */
  stateFile?: string | undefined;
}

export interface EmulatorKeyOptions {
  /** "RSA" (default), "RSA-HSM", "oct" or "oct-HSM". */
  kty?: EmulatedKeyType | undefined;
  /** RSA: 2048 (default), 3072 or 4096; oct: 256. */
  keySize?: number | undefined;
  keyOps?: KeyOperation[] | undefined;
  enabled?: boolean | undefined;
}

export interface EmulatedKey {
  readonly name: string;
  readonly version: string;
  /** The versioned kid, e.g. https://127.0.0.1:PORT/keys/NAME/VERSION. */
  readonly kid: string;
  /** The unversioned key id, e.g. https://127.0.0.1:PORT/keys/NAME. */
  readonly id: string;
}

export interface AzureKeyVaultEmulator {
  /** e.g. https://127.0.0.1:PORT, without a trailing slash. */
  readonly vaultUrl: string;
  /** PEM of the emulator's self-signed certificate: trust it through `tlsOptions: { ca }`. */
  readonly ca: string;
  /** The tenant its bearer challenge names (`authorization="https://login.microsoftonline.com/<tenant>"`). */
  readonly tenantId: string;
  /** A stub credential granting every key permission; it asks no identity provider. */
  readonly credential: TokenCredential;
  /** A stub credential whose token grants only these permissions (403 ForbiddenByPolicy otherwise). */
  credentialWith(permissions: readonly KeyPermission[]): TokenCredential;
  /** Client options that reach the emulator: its CA, no challenge-resource check, fast retries. */
  clientOptions(overrides?: CryptographyClientOptions): CryptographyClientOptions;
  /** A real `KeyClient` on the emulator. */
  client(options?: { credential?: TokenCredential; clientOptions?: CryptographyClientOptions }): KeyClient;
  /** A real `CryptographyClient` for a kid on the emulator. */
  cryptographyClient(
    kid: string,
    options?: { credential?: TokenCredential; clientOptions?: CryptographyClientOptions },
  ): CryptographyClient;
  /** Creates a key (or a new version of it) directly, without a request. */
  createKey(name: string, options?: EmulatorKeyOptions): Promise<EmulatedKey>;
  /**
   * Faults the next matching requests suffer (operations: CreateKey, GetKey, GetKeyVersions, UpdateKey,
   * RotateKey, DeleteKey, GetDeletedKey, PurgeDeletedKey, WrapKey, UnwrapKey): "throttle" is a 429
   * `Throttled` with `Retry-After: ceil(delayMs / 1000)` seconds (default 1), "unavailable" a 503,
   * "latency" waits `delayMs` then answers, "reset" destroys the connection.
   */
  readonly faults: FaultController;
  /** Authenticated requests served, per operation; "Challenge" counts requests without a token (answered 401). */
  readonly calls: CallCounter;
  close(): Promise<void>;
}

/**
 * Starts a loopback HTTPS server speaking the Key Vault keys REST API
 * (api-version 7.4+), with a certificate generated at start, the bearer
 * challenge real clients expect, versioned kids, RSA-OAEP-256 and A256KW,
 * real error bodies and fault injection.
 */
export async function startAzureKeyVaultEmulator(
  options: AzureKeyVaultEmulatorOptions = {},
): Promise<AzureKeyVaultEmulator> {
  const host = options.host ?? "127.0.0.1";
  const pems =
    options.tls === undefined
      ? await createEmulatorCertificate()
      : { private: options.tls.key, cert: options.tls.cert };

  const tokens = new Map<string, ReadonlySet<KeyPermission>>();
  const faults = createFaultController();
  const calls = createCallCounter();
  const resource = options.resource ?? "https://vault.azure.net";
  // Kids carry the vault URL, which carries the port: the real store replaces this one once listening.
  const state = {
    store: new KeyStore(""),
    onChange: undefined as (() => void) | undefined,
    acceptAnyToken: options.acceptAnyToken === true,
    faults,
    calls,
    tokens,
    tenantId: EMULATOR_TENANT_ID,
    resource,
  };
  const server = holdIdleConnections(startHttpsServer(state, { key: pems.private, cert: pems.cert }));
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = listeningPort(server);
  const servers = [server];
  if (host === "localhost") {
    // "localhost" may resolve to ::1 first: answer there too, on the same port, when the host has IPv6.
    const v6 = holdIdleConnections(startHttpsServer(state, { key: pems.private, cert: pems.cert }));
    const listening = await new Promise<boolean>((done) => {
      v6.once("error", () => done(false));
      v6.listen(port, "::1", () => done(true));
    });
    if (listening) servers.push(v6);
  }
  const vaultUrl = `https://${host}:${port}`;
  const store = new KeyStore(vaultUrl);
  const save = persistStore(store, options.stateFile, "azure-keyvault");
  state.store = store;
  state.onChange = save;

  const expectedScope = `${resource}/.default`;
  function credentialWith(permissions: readonly KeyPermission[]): TokenCredential {
    const token = randomBytes(16).toString("hex");
    tokens.set(token, new Set(permissions));
    return {
      // A token for any other scope is one the emulator does not know: it answers 401, as Key Vault would.
      async getToken(scopes): Promise<AccessToken> {
        const asked = Array.isArray(scopes) ? scopes : [scopes];
        return {
          token: asked.length === 1 && asked[0] === expectedScope ? token : "token-for-another-resource",
          expiresOnTimestamp: Date.now() + 3_600_000,
          tokenType: "Bearer",
        };
      },
    };
  }
  const credential = credentialWith(ALL_KEY_PERMISSIONS);
  // The well-known token azure-keyvault's `insecureTestCredentials: true` presents
  // (AZURE_INSECURE_TEST_TOKEN), so a config file can point at the emulator without secrets.
  tokens.set(INSECURE_TEST_TOKEN, new Set(ALL_KEY_PERMISSIONS));

  function clientOptions(overrides: CryptographyClientOptions = {}): CryptographyClientOptions {
    return {
      disableChallengeResourceVerification: true,
      retryOptions: { maxRetries: 3, retryDelayInMs: 10, maxRetryDelayInMs: 100 },
      ...overrides,
      tlsOptions: { ca: pems.cert, ...overrides.tlsOptions },
    };
  }

  return {
    vaultUrl,
    ca: pems.cert,
    tenantId: EMULATOR_TENANT_ID,
    credential,
    credentialWith,
    clientOptions,
    client: (o = {}) => new KeyClient(vaultUrl, o.credential ?? credential, clientOptions(o.clientOptions)),
    cryptographyClient: (kid, o = {}) =>
      new CryptographyClient(kid, o.credential ?? credential, clientOptions(o.clientOptions)),
    async createKey(name, keyOptions = {}) {
      const { version } = store.create(name, {
        kty: keyOptions.kty ?? "RSA",
        keySize: keyOptions.keySize,
        keyOps: keyOptions.keyOps,
        enabled: keyOptions.enabled,
      });
      save();
      const id = `${vaultUrl}/keys/${name}`;
      return { name, version: version.version, kid: `${id}/${version.version}`, id };
    },
    faults,
    calls,
    async close() {
      await Promise.all(
        servers.map(async (each) => {
          const closed = once(each, "close");
          each.close();
          each.closeAllConnections();
          await closed;
        }),
      );
    },
  };
}
