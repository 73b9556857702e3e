import { randomBytes, randomUUID, timingSafeEqual } from "node:crypto";
import { once } from "node:events";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer } from "node:https";
import type { AddressInfo } from "node:net";
import { holdIdleConnections } from "../keep-alive.js";
import { createEmulatorCertificate } from "./certificate.js";
import { ALL_KEY_PERMISSIONS, type KeyPermission } from "./server.js";
import {
  closeServer,
  issueToken,
  readText,
  sendJson,
  type TokenIssuingVault,
  type TokenRequestRecord,
} from "./token-issuer.js";

export interface EntraIdAuthorityOptions {
  /** The vault whose tokens this authority hands out; its tenant is the authority's tenant. */
  vault: TokenIssuingVault;
  /** Key permissions the application's tokens carry (default: all). */
  permissions?: readonly KeyPermission[] | undefined;
  /** The registered application (default: a random client id and secret). */
  clientId?: string | undefined;
  clientSecret?: string | undefined;
  /** The TLS key and certificate (PEM); a fresh self-signed pair when absent. */
  tls?: { readonly key: string; readonly cert: string } | undefined;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number | undefined;
}

export interface EntraIdAuthority {
  /** e.g. https://127.0.0.1:PORT, without a trailing slash: what AZURE_AUTHORITY_HOST names. */
  readonly authorityHost: string;
  readonly tenantId: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** PEM of the authority's self-signed certificate (for NODE_EXTRA_CA_CERTS). */
  readonly ca: string;
  /** AZURE_AUTHORITY_HOST, AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET, as EnvironmentCredential reads them. */
  env(): Record<
    "AZURE_AUTHORITY_HOST" | "AZURE_TENANT_ID" | "AZURE_CLIENT_ID" | "AZURE_CLIENT_SECRET",
    string
  >;
  /** Every metadata and token request answered, in order. */
  readonly requests: readonly TokenRequestRecord[];
  close(): Promise<void>;
}

const LIFETIME_SECONDS = 3599;

/**
 * A Microsoft Entra ID authority on loopback HTTPS for one tenant and one
 * confidential client: the tenant's OpenID Connect metadata
 * (`GET /{tenant}/v2.0/.well-known/openid-configuration`) and the v2 token
 * endpoint (`POST /{tenant}/oauth2/v2.0/token`, client credentials grant with
 * a client secret and a single `<resource>/.default` scope), answering errors
 * with Entra's `{ error, error_description: "AADSTS…", error_codes, … }` body.
 */
export async function startEntraIdAuthority(options: EntraIdAuthorityOptions): Promise<EntraIdAuthority> {
  const pems =
    options.tls === undefined
      ? await createEmulatorCertificate()
      : { private: options.tls.key, cert: options.tls.cert };
  const tenantId = options.vault.tenantId;
  const clientId = options.clientId ?? randomUUID();
  const clientSecret = options.clientSecret ?? randomBytes(30).toString("base64url");
  const permissions = options.permissions ?? ALL_KEY_PERMISSIONS;
  const requests: TokenRequestRecord[] = [];
  let authorityHost = "";

  const server = createServer({ key: pems.private, cert: pems.cert }, (req, res) => {
    answer(req, res).catch((error: unknown) => {
      sendJson(res, 500, entraError("server_error", 50000, String(error)));
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "https://127.0.0.1");
    const [tenant = "", ...rest] = url.pathname.split("/").slice(1).map(decodeURIComponent);
    const route = rest.join("/");
    if (req.method === "GET" && route === "v2.0/.well-known/openid-configuration") {
      const known = tenant.toLowerCase() === tenantId;
      requests.push({ endpoint: "openid-configuration", status: known ? 200 : 400, authenticated: false });
      if (!known) {
        sendJson(res, 400, unknownTenant(tenant));
        return;
      }
      sendJson(res, 200, metadata(authorityHost, tenantId));
      return;
    }
    if (req.method === "POST" && route === "oauth2/v2.0/token") {
      await tokenRequest(tenant, req, res);
      return;
    }
    sendJson(res, 404, entraError("invalid_request", 900561, `The endpoint ${url.pathname} does not exist.`));
  }

  async function tokenRequest(tenant: string, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const text = await readText(req);
    const form = new URLSearchParams(text ?? "");
    const basic = clientFromBasic(req.headers.authorization);
    const sentClient = form.get("client_id") ?? basic?.id ?? undefined;
    const sentSecret = form.get("client_secret") ?? basic?.secret ?? undefined;
    const scope = form.get("scope") ?? undefined;
    const authenticated =
      sentClient === clientId && sentSecret !== undefined && same(sentSecret, clientSecret);
    const reply = (status: number, body: Record<string, unknown>, accessToken?: string) => {
      requests.push({
        endpoint: "token",
        status,
        audience: scope,
        clientId: sentClient,
        authenticated,
        accessToken,
      });
      sendJson(res, status, body);
    };
    if (text === undefined)
      return reply(400, entraError("invalid_request", 900144, "The request body is too large."));
    if (tenant.toLowerCase() !== tenantId) return reply(400, unknownTenant(tenant));
    if (form.get("grant_type") !== "client_credentials") {
      return reply(
        400,
        entraError("unsupported_grant_type", 70003, "The app requested an unsupported grant type."),
      );
    }
    if (sentClient !== clientId) {
      return reply(
        400,
        entraError(
          "unauthorized_client",
          700016,
          `Application with identifier '${sentClient ?? ""}' was not found in the directory '${tenantId}'.`,
        ),
      );
    }
    if (sentSecret === undefined) {
      return reply(
        401,
        entraError(
          "invalid_client",
          7000218,
          "The request body must contain the following parameter: 'client_assertion' or 'client_secret'.",
        ),
      );
    }
    if (!authenticated) {
      // Entra answers a wrong secret with 401 invalid_client and never echoes what was sent.
      return reply(
        401,
        entraError(
          "invalid_client",
          7000215,
          "Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        ),
      );
    }
    const scopes = (scope ?? "").split(" ").filter((each) => each !== "");
    const resourceScope = scopes.filter((each) => !["openid", "profile", "offline_access"].includes(each));
    if (resourceScope.length !== 1 || !resourceScope[0]?.endsWith("/.default")) {
      return reply(
        400,
        entraError(
          "invalid_scope",
          1002012,
          `The provided value for scope ${scope ?? ""} is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).`,
        ),
      );
    }
    const accessToken = await issueToken(options.vault, permissions, resourceScope[0]);
    reply(
      200,
      {
        token_type: "Bearer",
        expires_in: LIFETIME_SECONDS,
        ext_expires_in: LIFETIME_SECONDS,
        access_token: accessToken,
      },
      accessToken,
    );
  }

  holdIdleConnections(server);
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  authorityHost = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    authorityHost,
    tenantId,
    clientId,
    clientSecret,
    ca: pems.cert,
    env: () => ({
      AZURE_AUTHORITY_HOST: authorityHost,
      AZURE_TENANT_ID: tenantId,
      AZURE_CLIENT_ID: clientId,
      AZURE_CLIENT_SECRET: clientSecret,
    }),
    requests,
    close: () => closeServer(server),
  };
}

/** The tenant's OpenID Connect discovery document; the issuer is on this host, as MSAL checks. */
function metadata(host: string, tenant: string): Record<string, unknown> {
  const base = `${host}/${tenant}`;
  return {
    token_endpoint: `${base}/oauth2/v2.0/token`,
    token_endpoint_auth_methods_supported: ["client_secret_post", "private_key_jwt", "client_secret_basic"],
    jwks_uri: `${base}/discovery/v2.0/keys`,
    response_modes_supported: ["query", "fragment", "form_post"],
    subject_types_supported: ["pairwise"],
    id_token_signing_alg_values_supported: ["RS256"],
    response_types_supported: ["code", "id_token", "code id_token", "id_token token"],
    scopes_supported: ["openid", "profile", "email", "offline_access"],
    issuer: `${base}/v2.0`,
    request_uri_parameter_supported: false,
    authorization_endpoint: `${base}/oauth2/v2.0/authorize`,
    device_authorization_endpoint: `${base}/oauth2/v2.0/devicecode`,
    end_session_endpoint: `${base}/oauth2/v2.0/logout`,
    tenant_region_scope: null,
    cloud_instance_name: "microsoftonline.com",
  };
}

function entraError(error: string, code: number, description: string): Record<string, unknown> {
  const traceId = randomUUID();
  const correlationId = randomUUID();
  return {
    error,
    error_description: `AADSTS${code}: ${description} Trace ID: ${traceId} Correlation ID: ${correlationId} Timestamp: ${new Date().toISOString()}`,
    error_codes: [code],
    timestamp: new Date()
      .toISOString()
      .replace("T", " ")
      .replace(/\.\d+Z$/, "Z"),
    trace_id: traceId,
    correlation_id: correlationId,
    error_uri: `https://login.microsoftonline.com/error?code=${code}`,
  };
}

function unknownTenant(tenant: string): Record<string, unknown> {
  return entraError(
    "invalid_tenant",
    90002,
    `Tenant '${tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.`,
  );
}

function clientFromBasic(header: string | undefined): { id: string; secret: string } | undefined {
  const encoded = /^Basic (.+)$/i.exec(header ?? "")?.[1];
  if (encoded === undefined) return undefined;
  const decoded = Buffer.from(encoded, "base64").toString("utf8");
  const colon = decoded.indexOf(":");
  if (colon === -1) return undefined;
  return {
    id: decodeURIComponent(decoded.slice(0, colon)),
    secret: decodeURIComponent(decoded.slice(colon + 1)),
  };
}

/** Constant-time comparison of the sent secret with the registered one. */
function same(sent: string, expected: string): boolean {
  const a = Buffer.from(sent);
  const b = Buffer.from(expected);
  return a.length === b.length && timingSafeEqual(a, b);
}
