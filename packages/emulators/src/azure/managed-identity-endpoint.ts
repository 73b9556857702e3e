import { randomBytes, randomUUID } from "node:crypto";
import { once } from "node:events";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { holdIdleConnections } from "../keep-alive.js";
import { ALL_KEY_PERMISSIONS, type KeyPermission } from "./server.js";
import {
  closeServer,
  issueToken,
  sendJson,
  type TokenIssuingVault,
  type TokenRequestRecord,
} from "./token-issuer.js";

/** The only api-version of the App Service identity protocol this endpoint speaks (what MSAL sends). */
export const APP_SERVICE_IDENTITY_API_VERSION = "2019-08-01";

export interface ManagedIdentityEndpointOptions {
  /** The vault whose tokens this endpoint hands out. */
  vault: TokenIssuingVault;
  /** Key permissions the identity's tokens carry (default: all). */
  permissions?: readonly KeyPermission[] | undefined;
  /** The identity's client id, echoed as `client_id`; a request naming another user-assigned id gets 400. */
  clientId?: string | undefined;
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number | undefined;
}

export interface ManagedIdentityEndpoint {
  /** e.g. http://127.0.0.1:PORT/msi/token: what App Service puts in IDENTITY_ENDPOINT. */
  readonly identityEndpoint: string;
  /** The per-process secret App Service puts in IDENTITY_HEADER; requests must send it as X-IDENTITY-HEADER. */
  readonly identityHeader: string;
  readonly clientId: string;
  /** `{ IDENTITY_ENDPOINT, IDENTITY_HEADER }`: the environment a process on App Service sees. */
  env(): Record<"IDENTITY_ENDPOINT" | "IDENTITY_HEADER", string>;
  /** Every request answered, in order. */
  readonly requests: readonly TokenRequestRecord[];
  close(): Promise<void>;
}

const PATH = "/msi/token";
const LIFETIME_SECONDS = 24 * 3600;

/**
 * The managed identity endpoint of Azure App Service and Azure Functions,
 * on loopback HTTP as on App Service itself: `GET IDENTITY_ENDPOINT?resource=…&api-version=2019-08-01`
 * with the `X-IDENTITY-HEADER` secret, answered with `access_token`,
 * `expires_on` (epoch seconds, as a string), `resource`, `token_type` and
 * `client_id`. The tokens are ones the given Key Vault emulator accepts
 * when `resource` is the vault's; it refuses any other with 401.
 */
export async function startManagedIdentityEndpoint(
  options: ManagedIdentityEndpointOptions,
): Promise<ManagedIdentityEndpoint> {
  const identityHeader = randomBytes(24).toString("base64url");
  const clientId = options.clientId ?? randomUUID();
  const permissions = options.permissions ?? ALL_KEY_PERMISSIONS;
  const requests: TokenRequestRecord[] = [];
  const server = createServer((req, res) => {
    answer(req, res).catch((error: unknown) => {
      sendJson(res, 500, { statusCode: 500, message: String(error) });
    });
  });

  async function answer(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://127.0.0.1");
    if (url.pathname.replace(/\/$/, "").toLowerCase() !== PATH || req.method !== "GET") {
      sendJson(res, 404, { statusCode: 404, message: "Not Found" });
      return;
    }
    const resource = url.searchParams.get("resource") ?? undefined;
    const asked =
      url.searchParams.get("client_id") ??
      url.searchParams.get("principal_id") ??
      url.searchParams.get("mi_res_id") ??
      undefined;
    const authenticated = req.headers["x-identity-header"] === identityHeader;
    const record = (status: number, accessToken?: string) =>
      requests.push({
        endpoint: "managed-identity",
        status,
        audience: resource,
        clientId: asked,
        authenticated,
        accessToken,
      });
    // Only this process's secret header gets a token: it is what stops another local caller (SSRF).
    if (!authenticated) {
      record(401);
      sendJson(res, 401, {
        statusCode: 401,
        message: "Unauthorized: the X-IDENTITY-HEADER is missing or wrong.",
      });
      return;
    }
    if (url.searchParams.get("api-version") !== APP_SERVICE_IDENTITY_API_VERSION) {
      record(400);
      sendJson(res, 400, {
        statusCode: 400,
        message: `api-version must be ${APP_SERVICE_IDENTITY_API_VERSION}.`,
      });
      return;
    }
    if (resource === undefined || resource === "") {
      record(400);
      sendJson(res, 400, { statusCode: 400, message: "The resource parameter is required." });
      return;
    }
    if (asked !== undefined && asked !== clientId) {
      record(400);
      sendJson(res, 400, {
        statusCode: 400,
        message: `No managed identity ${asked} is assigned to this app.`,
      });
      return;
    }
    // Scopes are `<resource>/.default`; the vault decides whether the resource is its own.
    const accessToken = await issueToken(
      options.vault,
      permissions,
      `${resource.replace(/\/$/, "")}/.default`,
    );
    record(200, accessToken);
    sendJson(res, 200, {
      access_token: accessToken,
      expires_on: String(Math.floor(Date.now() / 1000) + LIFETIME_SECONDS),
      resource,
      token_type: "Bearer",
      client_id: clientId,
    });
  }

  holdIdleConnections(server);
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const identityEndpoint = `http://127.0.0.1:${port}${PATH}`;
  return {
    identityEndpoint,
    identityHeader,
    clientId,
    env: () => ({ IDENTITY_ENDPOINT: identityEndpoint, IDENTITY_HEADER: identityHeader }),
    requests,
    close: () => closeServer(server),
  };
}
