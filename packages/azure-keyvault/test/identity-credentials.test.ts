import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { type AddressInfo, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  type AzureKeyVaultEmulator,
  type EmulatedKey,
  type EntraIdAuthority,
  type ManagedIdentityEndpoint,
  startAzureKeyVaultEmulator,
  startEntraIdAuthority,
  startManagedIdentityEndpoint,
} from "@kms-envelope/emulators/azure";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { ensureBuilt, leaked, runCredentialChild } from "./identity-child.js";

/*
 * The "managed-identity" and "environment" credential kinds, as a config file
 * names them, driving the real ManagedIdentityCredential / EnvironmentCredential
 * (and MSAL under them) against loopback token endpoints whose tokens the Key
 * Vault emulator accepts. Each case runs in a fresh process (see identity-child.ts).
 */

let vault: AzureKeyVaultEmulator;
let otherVault: AzureKeyVaultEmulator;
let managedIdentity: ManagedIdentityEndpoint;
let entra: EntraIdAuthority;
let dir: string;
let vaultCaFile: string;
let authorityCaFile: string;
let key: EmulatedKey;

beforeAll(async () => {
  ensureBuilt();
  [vault, otherVault, dir] = await Promise.all([
    startAzureKeyVaultEmulator(),
    startAzureKeyVaultEmulator(),
    mkdtemp(join(tmpdir(), "azure-identity-")),
  ]);
  [managedIdentity, entra] = await Promise.all([
    startManagedIdentityEndpoint({ vault }),
    startEntraIdAuthority({ vault }),
  ]);
  vaultCaFile = join(dir, "vault-ca.pem");
  authorityCaFile = join(dir, "authority-ca.pem");
  await Promise.all([writeFile(vaultCaFile, vault.ca), writeFile(authorityCaFile, entra.ca)]);
  key = await vault.createKey(`identity-${randomBytes(4).toString("hex")}`);
});
afterAll(async () => {
  await Promise.all([vault?.close(), otherVault?.close(), managedIdentity?.close(), entra?.close()]);
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  vault.calls.reset();
});

/** A loopback port nothing listens on: bound, then released. */
async function closedLoopbackPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

const uriOf = (id: string) => `azure-keyvault://${id.slice("https://".length)}`;
/** Key reads, wraps and unwraps the vault served (with a token it accepted) since the test began. */
const vaultCalls = () =>
  Object.fromEntries(
    ["GetKey", "WrapKey", "UnwrapKey"].map((operation) => [operation, vault.calls.count(operation)]),
  );
/** A wrap and unwrap with `credential` by name (as a config file gives it), in a child with `env`. */
const runKind = (credential: "default" | "managed-identity" | "environment", env: Record<string, string>) =>
  runCredentialChild(uriOf(key.id), { credential, caFile: vaultCaFile }, env);
const tokensFrom = (requests: readonly { accessToken?: string | undefined }[]) =>
  requests.flatMap((request) => (request.accessToken === undefined ? [] : [request.accessToken]));

describe('credential: "managed-identity" (App Service: IDENTITY_ENDPOINT + IDENTITY_HEADER)', () => {
  it("wraps and unwraps with a token from the loopback identity endpoint, and never looks elsewhere", async () => {
    const before = managedIdentity.requests.length;
    const result = await runKind("managed-identity", managedIdentity.env());
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ roundTrip: true, keyId: key.kid, refused: [] });
    // One GET with the secret header, for Key Vault's resource; MSAL caches the token for the unwrap.
    const seen = managedIdentity.requests.slice(before);
    expect(seen).toEqual([
      {
        endpoint: "managed-identity",
        status: 200,
        audience: "https://vault.azure.net",
        clientId: undefined,
        authenticated: true,
        accessToken: expect.any(String),
      },
    ]);
    // The vault served the key read, the wrap and the unwrap with that token (it knows no other route to one).
    expect(vaultCalls()).toEqual({ GetKey: 1, WrapKey: 1, UnwrapKey: 1 });
  });

  it("a wrong IDENTITY_HEADER is refused by the endpoint: KEY_ACCESS_DENIED, no vault call, no secret in the error", async () => {
    const before = managedIdentity.requests.length;
    const wrongHeader = randomBytes(24).toString("base64url");
    const result = await runKind("managed-identity", {
      ...managedIdentity.env(),
      IDENTITY_HEADER: wrongHeader,
    });
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    expect(result.refused).toEqual([]);
    expect(managedIdentity.requests.slice(before).map((r) => [r.status, r.authenticated])).toEqual([
      [401, false],
    ]);
    expect(vault.calls.count("GetKey")).toBe(0);
    expect(
      leaked(result.error?.everything ?? "", {
        identityHeader: managedIdentity.identityHeader,
        wrongHeader,
      }),
    ).toEqual([]);
  });

  it("an identity endpoint that does not answer is an outage: KMS_UNAVAILABLE naming MSAL's network_error, no vault call", async () => {
    const closed = await closedLoopbackPort();
    const result = await runKind("managed-identity", {
      ...managedIdentity.env(),
      IDENTITY_ENDPOINT: `http://127.0.0.1:${closed}/msi/token`,
    });
    expect(result.error?.code, result.error?.message).toBe("KMS_UNAVAILABLE");
    expect(result.error?.message).toContain("(CredentialUnavailableError: network_error)");
    expect(result.refused).toEqual([]);
    expect(vault.calls.count("GetKey")).toBe(0);
    expect(
      leaked(result.error?.everything ?? "", { identityHeader: managedIdentity.identityHeader }),
    ).toEqual([]);
  });

  it("a token from an identity endpoint this vault does not trust is refused with 401: KEY_ACCESS_DENIED", async () => {
    const foreign = await startManagedIdentityEndpoint({ vault: otherVault });
    try {
      const result = await runKind("managed-identity", foreign.env());
      expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
      expect(result.error?.message).toMatch(/401/);
      // The endpoint did hand out a token (for the other vault); this vault served nothing with it.
      expect(foreign.requests.map((r) => r.status)).toContain(200);
      expect(vault.calls.count("GetKey")).toBe(0);
      const tokens = Object.fromEntries(tokensFrom(foreign.requests).map((token, i) => [`token${i}`, token]));
      expect(Object.keys(tokens).length).toBeGreaterThan(0);
      expect(leaked(result.error?.everything ?? "", tokens)).toEqual([]);
    } finally {
      await foreign.close();
    }
  });
});

describe('credential: "environment" (AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET, AZURE_AUTHORITY_HOST)', () => {
  const environment = (overrides: Record<string, string> = {}) => ({
    ...entra.env(),
    // The authority's TLS is trusted the way a private authority's would be: Node's extra CA file.
    NODE_EXTRA_CA_CERTS: authorityCaFile,
    ...overrides,
  });

  it("wraps and unwraps with a client-credentials token from the loopback authority, metadata included", async () => {
    const before = entra.requests.length;
    const result = await runKind("environment", environment());
    expect(result.error).toBeUndefined();
    // refused is empty: no instance discovery at login.microsoftonline.com for the loopback authority.
    expect(result).toMatchObject({ roundTrip: true, keyId: key.kid, refused: [] });
    expect(entra.requests.slice(before)).toEqual([
      { endpoint: "openid-configuration", status: 200, authenticated: false },
      {
        endpoint: "token",
        status: 200,
        audience: "https://vault.azure.net/.default",
        clientId: entra.clientId,
        authenticated: true,
        accessToken: expect.any(String),
      },
    ]);
    expect(vaultCalls()).toEqual({ GetKey: 1, WrapKey: 1, UnwrapKey: 1 });
  });

  it("a wrong client secret: Entra's 401 invalid_client becomes KEY_ACCESS_DENIED, and neither secret is in the error", async () => {
    const before = entra.requests.length;
    const wrongSecret = randomBytes(30).toString("base64url");
    const result = await runKind("environment", environment({ AZURE_CLIENT_SECRET: wrongSecret }));
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    expect(result.error?.everything).toContain("AADSTS7000215");
    expect(result.error?.message).toContain("(AuthenticationError: invalid_client AADSTS7000215)");
    expect(result.refused).toEqual([]);
    const tokenRequests = entra.requests.slice(before).filter((r) => r.endpoint === "token");
    expect(tokenRequests.map((r) => [r.status, r.authenticated])).toEqual([[401, false]]);
    expect(vault.calls.count("GetKey")).toBe(0);
    expect(leaked(result.error?.everything ?? "", { clientSecret: entra.clientSecret, wrongSecret })).toEqual(
      [],
    );
  });

  it("an authority that does not answer: KEY_ACCESS_DENIED naming MSAL's endpoints_resolution_error, no secret", async () => {
    // MSAL reports its failed metadata fetch like any unresolvable authority (a wrong tenant too): not an outage.
    const closed = await closedLoopbackPort();
    const result = await runKind(
      "environment",
      environment({ AZURE_AUTHORITY_HOST: `https://127.0.0.1:${closed}` }),
    );
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    expect(result.error?.message).toContain("(AuthenticationError: endpoints_resolution_error)");
    expect(leaked(result.error?.everything ?? "", { clientSecret: entra.clientSecret })).toEqual([]);
  });

  it("without the authority's CA the TLS handshake fails: KEY_ACCESS_DENIED, and no token request is made", async () => {
    const before = entra.requests.length;
    const { NODE_EXTRA_CA_CERTS: _, ...withoutCa } = environment();
    const result = await runKind("environment", withoutCa);
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    expect(entra.requests.slice(before)).toEqual([]);
    expect(leaked(result.error?.everything ?? "", { clientSecret: entra.clientSecret })).toEqual([]);
  });

  it("without AZURE_CLIENT_SECRET (nor a certificate) the credential is unavailable: KEY_ACCESS_DENIED, no request", async () => {
    const before = entra.requests.length;
    const { AZURE_CLIENT_SECRET: _, ...incomplete } = environment();
    const result = await runKind("environment", incomplete);
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    expect(result.error?.everything).toContain("EnvironmentCredential is unavailable");
    expect(entra.requests.slice(before)).toEqual([]);
    expect(vaultCalls()).toEqual({ GetKey: 0, WrapKey: 0, UnwrapKey: 0 });
  });

  it("any authority host but loopback keeps MSAL's instance discovery (asked of login.microsoftonline.com, refused here)", async () => {
    const result = await runKind(
      "environment",
      environment({ AZURE_AUTHORITY_HOST: "https://login.kms-envelope.invalid" }),
    );
    expect(result.error?.code, result.error?.message).toBe("KEY_ACCESS_DENIED");
    // The child's loopback guard stopped the connection before any DNS lookup or byte sent.
    expect(result.refused[0]).toBe("login.microsoftonline.com");
  });
});

describe('credential: "default" (DefaultAzureCredential: environment first, then … managed identity)', () => {
  it("with the environment credential's variables: the loopback authority's token, no instance discovery", async () => {
    const before = entra.requests.length;
    const result = await runKind("default", { ...entra.env(), NODE_EXTRA_CA_CERTS: authorityCaFile });
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ roundTrip: true, keyId: key.kid, refused: [] });
    const tokens = entra.requests.slice(before).filter((r) => r.endpoint === "token");
    expect(tokens.map((r) => [r.status, r.clientId])).toEqual([[200, entra.clientId]]);
    expect(vaultCalls()).toEqual({ GetKey: 1, WrapKey: 1, UnwrapKey: 1 });
  });

  it("with only the managed identity endpoint's variables: its token, and nothing asked of IMDS", async () => {
    const before = managedIdentity.requests.length;
    const result = await runKind("default", managedIdentity.env());
    expect(result.error).toBeUndefined();
    expect(result).toMatchObject({ roundTrip: true, keyId: key.kid, refused: [] });
    expect(managedIdentity.requests.slice(before).map((r) => [r.status, r.authenticated])).toEqual([
      [200, true],
    ]);
    expect(vaultCalls()).toEqual({ GetKey: 1, WrapKey: 1, UnwrapKey: 1 });
  });
});
