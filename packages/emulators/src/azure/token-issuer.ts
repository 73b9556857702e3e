import { once } from "node:events";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import type { TokenCredential } from "@azure/core-auth";
import type { KeyPermission } from "./server.js";

/**
 * What the token endpoints need from a Key Vault emulator: tokens it will
 * accept. `credentialWith(permissions).getToken("<resource>/.default")`
 * yields a fresh token the vault grants those permissions, and for any other
 * resource a token it does not know (401, as for a token of another audience).
 */
export interface TokenIssuingVault {
  credentialWith(permissions: readonly KeyPermission[]): TokenCredential;
  /** The tenant the vault's bearer challenge names. */
  readonly tenantId: string;
}

/** One request a token endpoint answered, for tests to assert on (never the secret itself). */
export interface TokenRequestRecord {
  /** "managed-identity" (App Service endpoint), "openid-configuration" or "token" (Entra ID). */
  readonly endpoint: "managed-identity" | "openid-configuration" | "token";
  readonly status: number;
  /** The resource (managed identity) or scope (Entra ID) asked for. */
  readonly audience?: string | undefined;
  /** Entra ID: the client_id sent; managed identity: the user-assigned id asked for, if any. */
  readonly clientId?: string | undefined;
  /** Whether the caller proved itself: the X-IDENTITY-HEADER or the client secret matched. */
  readonly authenticated: boolean;
  /** The access token handed out (a test can check the vault accepted exactly it). */
  readonly accessToken?: string | undefined;
}

export const MAX_TOKEN_REQUEST_BODY = 64 * 1024;

/** A token the vault accepts for `resource`, or one it refuses when the resource is not the vault's. */
export async function issueToken(
  vault: TokenIssuingVault,
  permissions: readonly KeyPermission[],
  scope: string,
): Promise<string> {
  const token = await vault.credentialWith(permissions).getToken(scope);
  if (token === null) throw new Error("the vault emulator issued no token");
  return token.token;
}

export function sendJson(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
    "Cache-Control": "no-store",
  });
  res.end(text);
}

/** The request body as text, refusing more than a token request could need. */
export async function readText(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_TOKEN_REQUEST_BODY) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString("utf8");
}

/** Stops listening and drops kept-alive connections (the SDK clients keep theirs open). */
export async function closeServer(server: Server): Promise<void> {
  const closed = once(server, "close");
  server.close();
  server.closeAllConnections();
  await closed;
}
