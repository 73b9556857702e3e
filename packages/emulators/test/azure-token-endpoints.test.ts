import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  APP_SERVICE_IDENTITY_API_VERSION,
  type AzureKeyVaultEmulator,
  type EntraIdAuthority,
  type ManagedIdentityEndpoint,
  startAzureKeyVaultEmulator,
  startEntraIdAuthority,
  startManagedIdentityEndpoint,
} from "../src/azure/index.js";

let vault: AzureKeyVaultEmulator;
let otherVault: AzureKeyVaultEmulator;
let identity: ManagedIdentityEndpoint;
let entra: EntraIdAuthority;
let keyUrl: string;

beforeAll(async () => {
  [vault, otherVault] = await Promise.all([startAzureKeyVaultEmulator(), startAzureKeyVaultEmulator()]);
  [identity, entra] = await Promise.all([
    startManagedIdentityEndpoint({ vault }),
    startEntraIdAuthority({ vault }),
  ]);
  keyUrl = `${(await vault.createKey("token-endpoints")).id}?api-version=7.4`;
});
afterAll(async () => {
  await Promise.all([vault?.close(), otherVault?.close(), identity?.close(), entra?.close()]);
});

interface Answer {
  status: number;
  headers: Record<string, unknown>;
  body: string;
  json: Record<string, unknown>;
}

function call(
  url: string,
  options: { method?: string; headers?: Record<string, string>; body?: string; ca?: string } = {},
): Promise<Answer> {
  const send = url.startsWith("https:") ? httpsRequest : httpRequest;
  return new Promise((done, fail) => {
    const req = send(
      url,
      { method: options.method ?? "GET", headers: options.headers, ca: options.ca },
      (res) => {
        let body = "";
        res.on("data", (chunk) => {
          body += chunk;
        });
        res.on("end", () => {
          let json: Record<string, unknown> = {};
          try {
            json = JSON.parse(body) as Record<string, unknown>;
          } catch {}
          done({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.on("error", fail);
    req.end(options.body);
  });
}

/** A Key Vault key read with `token` as the bearer token. */
const readKeyWith = (token: string, on = vault) =>
  call(on === vault ? keyUrl : keyUrl.replace(vault.vaultUrl, on.vaultUrl), {
    ca: on.ca,
    headers: { Authorization: `Bearer ${token}` },
  });

function identityUrl(query: Record<string, string>): string {
  return `${identity.identityEndpoint}?${new URLSearchParams(query)}`;
}

const vaultQuery = { resource: "https://vault.azure.net", "api-version": APP_SERVICE_IDENTITY_API_VERSION };

describe("App Service managed identity endpoint", () => {
  it("answers GET ?resource&api-version=2019-08-01 with X-IDENTITY-HEADER; the vault accepts the token", async () => {
    expect(identity.env()).toEqual({
      IDENTITY_ENDPOINT: identity.identityEndpoint,
      IDENTITY_HEADER: identity.identityHeader,
    });
    expect(identity.identityEndpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/msi\/token$/);
    const answer = await call(identityUrl(vaultQuery), {
      headers: { "X-IDENTITY-HEADER": identity.identityHeader },
    });
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      access_token: expect.any(String),
      expires_on: expect.stringMatching(/^\d+$/),
      resource: "https://vault.azure.net",
      token_type: "Bearer",
      client_id: identity.clientId,
    });
    const expiresIn = Number(answer.json.expires_on) - Date.now() / 1000;
    expect(expiresIn).toBeGreaterThan(3600);
    expect((await readKeyWith(String(answer.json.access_token))).status).toBe(200);
    expect((await readKeyWith(String(answer.json.access_token), otherVault)).status).toBe(401);
  });

  it("refuses a missing or wrong header (401), another api-version, no resource, another identity (400)", async () => {
    const statuses = await Promise.all([
      call(identityUrl(vaultQuery)),
      call(identityUrl(vaultQuery), { headers: { "X-IDENTITY-HEADER": "guess" } }),
      call(identityUrl({ ...vaultQuery, "api-version": "2017-09-01" }), {
        headers: { "X-IDENTITY-HEADER": identity.identityHeader },
      }),
      call(identityUrl({ "api-version": APP_SERVICE_IDENTITY_API_VERSION }), {
        headers: { "X-IDENTITY-HEADER": identity.identityHeader },
      }),
      call(identityUrl({ ...vaultQuery, client_id: "00000000-0000-0000-0000-00000000dead" }), {
        headers: { "X-IDENTITY-HEADER": identity.identityHeader },
      }),
      call(identityUrl(vaultQuery), {
        method: "POST",
        headers: { "X-IDENTITY-HEADER": identity.identityHeader },
      }),
    ]);
    expect(statuses.map((answer) => answer.status)).toEqual([401, 401, 400, 400, 400, 404]);
    expect(statuses.every((answer) => answer.json.access_token === undefined)).toBe(true);
    const named = await call(identityUrl({ ...vaultQuery, client_id: identity.clientId }), {
      headers: { "X-IDENTITY-HEADER": identity.identityHeader },
    });
    expect(named.status).toBe(200);
  });

  it("a token for another resource is one the vault refuses with 401 and its challenge", async () => {
    const answer = await call(identityUrl({ ...vaultQuery, resource: "https://storage.azure.com" }), {
      headers: { "X-IDENTITY-HEADER": identity.identityHeader },
    });
    expect(answer.status).toBe(200);
    const refused = await readKeyWith(String(answer.json.access_token));
    expect(refused.status).toBe(401);
    expect(String(refused.headers["www-authenticate"])).toContain(`/${vault.tenantId}"`);
    expect(refused.json).toEqual({
      error: { code: "Unauthorized", message: expect.stringMatching(/^AKV10032/) },
    });
  });
});

describe("Entra ID authority (v2 endpoints, client credentials)", () => {
  const tokenUrl = () => `${entra.authorityHost}/${entra.tenantId}/oauth2/v2.0/token`;
  const form = (fields: Record<string, string>) => ({
    method: "POST",
    ca: entra.ca,
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams(fields).toString(),
  });
  const credentials = () => ({
    grant_type: "client_credentials",
    client_id: entra.clientId,
    client_secret: entra.clientSecret,
    scope: "https://vault.azure.net/.default",
  });

  it("serves the tenant's OpenID metadata with an issuer on its own host, over its own CA only", async () => {
    expect(entra.env()).toEqual({
      AZURE_AUTHORITY_HOST: entra.authorityHost,
      AZURE_TENANT_ID: vault.tenantId,
      AZURE_CLIENT_ID: entra.clientId,
      AZURE_CLIENT_SECRET: entra.clientSecret,
    });
    const base = `${entra.authorityHost}/${entra.tenantId}`;
    const answer = await call(`${base}/v2.0/.well-known/openid-configuration`, { ca: entra.ca });
    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      issuer: `${base}/v2.0`,
      token_endpoint: `${base}/oauth2/v2.0/token`,
      authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
      jwks_uri: `${base}/discovery/v2.0/keys`,
    });
    const unknown = await call(`${entra.authorityHost}/contoso/v2.0/.well-known/openid-configuration`, {
      ca: entra.ca,
    });
    expect([unknown.status, unknown.json.error, unknown.json.error_codes]).toEqual([
      400,
      "invalid_tenant",
      [90002],
    ]);
    await expect(call(`${base}/v2.0/.well-known/openid-configuration`)).rejects.toThrow(
      /self.signed|verify/i,
    );
  });

  it("issues a bearer token for <resource>/.default to the registered client (secret in the form or Basic)", async () => {
    const answer = await call(tokenUrl(), form(credentials()));
    expect(answer.status).toBe(200);
    expect(answer.json).toEqual({
      token_type: "Bearer",
      expires_in: 3599,
      ext_expires_in: 3599,
      access_token: expect.any(String),
    });
    expect((await readKeyWith(String(answer.json.access_token))).status).toBe(200);
    const { client_secret: _, client_id: __, ...rest } = credentials();
    const basic = Buffer.from(`${entra.clientId}:${encodeURIComponent(entra.clientSecret)}`).toString(
      "base64",
    );
    const viaBasic = await call(tokenUrl(), {
      ...form(rest),
      headers: { "Content-Type": "application/x-www-form-urlencoded", Authorization: `Basic ${basic}` },
    });
    expect(viaBasic.status).toBe(200);
    const last = entra.requests.at(-1);
    expect(last).toMatchObject({
      endpoint: "token",
      status: 200,
      authenticated: true,
      clientId: entra.clientId,
    });
  });

  it("answers Entra's errors: wrong secret 401 invalid_client (not echoed), unknown client, grant, scope, tenant, no secret", async () => {
    const wrong = "not-the-secret-0123456789";
    const { client_secret: _, ...withoutSecret } = credentials();
    const cases = await Promise.all([
      call(tokenUrl(), form({ ...credentials(), client_secret: wrong })),
      call(tokenUrl(), form({ ...credentials(), client_id: "11111111-1111-1111-1111-111111111111" })),
      call(tokenUrl(), form({ ...credentials(), grant_type: "password" })),
      call(tokenUrl(), form({ ...credentials(), scope: "https://vault.azure.net/keys.read" })),
      call(tokenUrl().replace(entra.tenantId, "contoso"), form(credentials())),
      call(tokenUrl(), form(withoutSecret)),
    ]);
    expect(cases.map((answer) => [answer.status, answer.json.error, answer.json.error_codes])).toEqual([
      [401, "invalid_client", [7000215]],
      [400, "unauthorized_client", [700016]],
      [400, "unsupported_grant_type", [70003]],
      [400, "invalid_scope", [1002012]],
      [400, "invalid_tenant", [90002]],
      [401, "invalid_client", [7000218]],
    ]);
    for (const answer of cases) {
      expect(answer.json.access_token).toBeUndefined();
      expect(String(answer.json.error_description)).toMatch(/^AADSTS\d+: /);
      expect(answer.body).not.toContain(wrong);
      expect(answer.body).not.toContain(entra.clientSecret);
    }
  });

  it("a token from an authority the vault does not trust is refused with 401", async () => {
    const foreign = await startEntraIdAuthority({ vault: otherVault });
    try {
      const answer = await call(`${foreign.authorityHost}/${foreign.tenantId}/oauth2/v2.0/token`, {
        ...form({ ...credentials(), client_id: foreign.clientId, client_secret: foreign.clientSecret }),
        ca: foreign.ca,
      });
      expect(answer.status).toBe(200);
      expect((await readKeyWith(String(answer.json.access_token))).status).toBe(401);
      // Its own vault lets the token in (and has no such key: 404, past the 401 check).
      expect((await readKeyWith(String(answer.json.access_token), otherVault)).status).toBe(404);
    } finally {
      await foreign.close();
    }
  });
});
