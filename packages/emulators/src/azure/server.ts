import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallCounter, FaultController } from "../faults.js";
import { KeyVaultHttpError } from "./http-error.js";
import {
  type EmulatedKeyType,
  type KeyOperation,
  type KeyStore,
  type KeyVersion,
  publicJwk,
} from "./key-store.js";

/** Key Vault access-policy permissions for keys, as the emulator checks them per token. */
export type KeyPermission =
  | "get"
  | "list"
  | "create"
  | "update"
  | "delete"
  | "rotate"
  | "purge"
  | "wrapKey"
  | "unwrapKey";

export interface ServerState {
  store: KeyStore;
  readonly faults: FaultController;
  readonly calls: CallCounter;
  /** Bearer token → the key permissions it grants. */
  readonly tokens: Map<string, ReadonlySet<KeyPermission>>;
  readonly tenantId: string;
  readonly resource: string;
  /** Any bearer token grants every permission (the emulators command). */
  readonly acceptAnyToken?: boolean | undefined;
  /** Called after every request that changed state (for the state file). */
  onChange?: (() => void) | undefined;
}

export const ALL_KEY_PERMISSIONS: readonly KeyPermission[] = [
  "get",
  "list",
  "create",
  "update",
  "delete",
  "rotate",
  "purge",
  "wrapKey",
  "unwrapKey",
];
const EVERY_PERMISSION: ReadonlySet<KeyPermission> = new Set(ALL_KEY_PERMISSIONS);

/** Operations that change state. */
const CHANGES = new Set(["CreateKey", "RotateKey", "UpdateKey", "DeleteKey", "PurgeDeletedKey"]);

interface Route {
  readonly operation: string;
  readonly permission: KeyPermission;
  readonly handle: (body: Record<string, unknown>) => unknown;
}

const MAX_BODY = 1 << 20;

/** Real Key Vault answers requests with older api-versions with 400; the SDK sends a date-style version. */
function checkApiVersion(value: string | null): void {
  if (value === null) throw KeyVaultHttpError.badParameter("The 'api-version' query parameter is missing.");
  const dotted = /^7\.(\d+)(-preview)?$/.exec(value);
  const dated = /^\d{4}-\d{2}-\d{2}(-preview)?$/.test(value);
  if (!dated && (dotted === null || Number(dotted[1]) < 4)) {
    throw KeyVaultHttpError.badParameter(
      `The specified version (${value}) is not supported by the emulator (7.4+).`,
    );
  }
}

export function startHttpsServer(state: ServerState, tls: { key: string; cert: string }): Server {
  return createServer(tls, (req, res) => {
    handle(state, req, res).catch((error: unknown) => {
      const failure =
        error instanceof KeyVaultHttpError
          ? error
          : new KeyVaultHttpError(500, "InternalError", String(error));
      send(res, failure.status, failure.body());
    });
  });
}

async function handle(state: ServerState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "https://emulator");
  const body = await readBody(req);
  checkApiVersion(url.searchParams.get("api-version"));
  const route = resolve(state, req.method ?? "GET", url.pathname);

  // The bearer challenge: a client's first request carries no token and learns the authority and resource here.
  const auth = req.headers.authorization;
  const challenge = `Bearer authorization="https://login.microsoftonline.com/${state.tenantId}", resource="${state.resource}"`;
  if (auth === undefined) {
    state.calls.record("Challenge");
    res.setHeader("WWW-Authenticate", challenge);
    throw new KeyVaultHttpError(401, "Unauthorized", "AKV10000: Request is missing a Bearer or PoP token.");
  }
  const permissions = /^Bearer (.+)$/.exec(auth)?.[1];
  const granted =
    permissions === undefined
      ? undefined
      : (state.tokens.get(permissions) ?? (state.acceptAnyToken === true ? EVERY_PERMISSION : undefined));
  if (granted === undefined) {
    res.setHeader("WWW-Authenticate", challenge);
    throw new KeyVaultHttpError(401, "Unauthorized", "AKV10032: Invalid issuer or token.");
  }

  const fault = state.faults.take(route.operation);
  if (fault?.kind === "reset") {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === "throttle") {
    // Retry-After is whole seconds on the wire; a test passes delayMs: 0 to retry at once.
    res.setHeader("Retry-After", String(Math.ceil((fault.delayMs ?? 1000) / 1000)));
    throw new KeyVaultHttpError(
      429,
      "Throttled",
      "Request was not processed because too many requests were received.",
    );
  }
  if (fault?.kind === "unavailable") {
    throw new KeyVaultHttpError(503, "ServiceUnavailable", "The service is temporarily unavailable.");
  }
  if (fault?.kind === "latency") {
    await sleep(fault.delayMs ?? 1000);
    if (res.destroyed || req.socket.destroyed) return;
  }

  if (!granted.has(route.permission)) {
    throw new KeyVaultHttpError(
      403,
      "Forbidden",
      `The user, group or application 'appid=emulator' does not have keys ${route.permission} permission on key vault 'emulator'.`,
      "ForbiddenByPolicy",
    );
  }
  state.calls.record(route.operation);
  const result = route.handle(body);
  if (CHANGES.has(route.operation)) state.onChange?.();
  send(res, route.operation === "PurgeDeletedKey" ? 204 : 200, result);
}

function resolve(state: ServerState, method: string, pathname: string): Route {
  const segments = pathname.split("/").slice(1).map(decodeURIComponent);
  const [collection, name = "", third, fourth] = segments;
  const { store } = state;
  const bundle = (keyName: string, key: KeyVersion) => keyBundle(state, keyName, key);
  if (collection === "keys" && name !== "") {
    if (method === "POST" && third === "create" && fourth === undefined) {
      return {
        operation: "CreateKey",
        permission: "create",
        handle: (b) => {
          const created = store.create(name, createParameters(b));
          return bundle(name, created.version);
        },
      };
    }
    if (method === "POST" && third === "rotate" && fourth === undefined) {
      return { operation: "RotateKey", permission: "rotate", handle: () => bundle(name, store.rotate(name)) };
    }
    if (method === "GET" && third === "versions" && fourth === undefined) {
      return {
        operation: "GetKeyVersions",
        permission: "list",
        handle: () => ({
          value: store.versions(name).map((key) => ({
            kid: store.kid(name, key.version),
            attributes: attributes(key),
            tags: key.tags,
          })),
          nextLink: null,
        }),
      };
    }
    if ((method === "POST" && fourth === "wrapkey") || (method === "POST" && fourth === "unwrapkey")) {
      const version = third ?? "";
      const wrap = fourth === "wrapkey";
      return {
        operation: wrap ? "WrapKey" : "UnwrapKey",
        permission: wrap ? "wrapKey" : "unwrapKey",
        handle: (b) => {
          const alg = requireString(b, "alg");
          const value = Buffer.from(requireString(b, "value"), "base64url");
          const result = wrap
            ? store.wrap(name, version, alg, value)
            : store.unwrap(name, version, alg, value);
          return { kid: result.kid, value: result.value.toString("base64url") };
        },
      };
    }
    if (fourth === undefined && (method === "GET" || method === "PATCH")) {
      const version = third ?? "";
      if (method === "GET")
        return {
          operation: "GetKey",
          permission: "get",
          handle: () => bundle(name, store.get(name, version)),
        };
      return {
        operation: "UpdateKey",
        permission: "update",
        handle: (b) => bundle(name, store.update(name, version, updateParameters(b))),
      };
    }
    if (method === "DELETE" && third === undefined) {
      return {
        operation: "DeleteKey",
        permission: "delete",
        handle: () => deletedBundle(state, name, store.delete(name)),
      };
    }
  }
  if (collection === "deletedkeys" && name !== "" && third === undefined) {
    if (method === "GET") {
      return {
        operation: "GetDeletedKey",
        permission: "get",
        handle: () => deletedBundle(state, name, store.getDeleted(name)),
      };
    }
    if (method === "DELETE") {
      return { operation: "PurgeDeletedKey", permission: "purge", handle: () => store.purge(name) };
    }
  }
  throw new KeyVaultHttpError(404, "NotFound", `The emulator does not implement ${method} ${pathname}.`);
}

function keyBundle(state: ServerState, name: string, key: KeyVersion): Record<string, unknown> {
  return { key: publicJwk(state.store, name, key), attributes: attributes(key), tags: key.tags };
}

function deletedBundle(
  state: ServerState,
  name: string,
  deleted: { version: KeyVersion; deletedDate: number },
): Record<string, unknown> {
  return {
    ...keyBundle(state, name, deleted.version),
    recoveryId: `${state.store.vaultUrl}/deletedkeys/${name}`,
    deletedDate: deleted.deletedDate,
    scheduledPurgeDate: deleted.deletedDate + 90 * 86_400,
  };
}

function attributes(key: KeyVersion): Record<string, unknown> {
  return {
    enabled: key.enabled,
    ...(key.nbf === undefined ? {} : { nbf: key.nbf }),
    ...(key.exp === undefined ? {} : { exp: key.exp }),
    created: key.created,
    updated: key.updated,
    recoveryLevel: "Recoverable+Purgeable",
    recoverableDays: 90,
    exportable: false,
  };
}

function createParameters(b: Record<string, unknown>) {
  const kty = requireString(b, "kty") as EmulatedKeyType;
  const attrs = objectOf(b.attributes);
  return {
    kty,
    keySize: typeof b.key_size === "number" ? b.key_size : undefined,
    keyOps: Array.isArray(b.key_ops) ? (b.key_ops as KeyOperation[]) : undefined,
    enabled: typeof attrs.enabled === "boolean" ? attrs.enabled : undefined,
    nbf: typeof attrs.nbf === "number" ? attrs.nbf : undefined,
    exp: typeof attrs.exp === "number" ? attrs.exp : undefined,
    tags: b.tags === undefined ? undefined : (objectOf(b.tags) as Record<string, string>),
  };
}

function updateParameters(b: Record<string, unknown>) {
  const attrs = objectOf(b.attributes);
  return {
    enabled: typeof attrs.enabled === "boolean" ? attrs.enabled : undefined,
    keyOps: Array.isArray(b.key_ops) ? (b.key_ops as KeyOperation[]) : undefined,
    nbf: typeof attrs.nbf === "number" ? attrs.nbf : undefined,
    exp: typeof attrs.exp === "number" ? attrs.exp : undefined,
    tags: b.tags === undefined ? undefined : (objectOf(b.tags) as Record<string, string>),
  };
}

function objectOf(value: unknown): Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function requireString(b: Record<string, unknown>, field: string): string {
  const value = b[field];
  if (typeof value !== "string" || value.length === 0) {
    throw KeyVaultHttpError.badParameter(`The request body must have a '${field}' string.`);
  }
  return value;
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw KeyVaultHttpError.badParameter("The request body is too large.");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  try {
    return objectOf(JSON.parse(Buffer.concat(chunks).toString("utf8")));
  } catch {
    throw KeyVaultHttpError.badParameter("The request body is not valid JSON.");
  }
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader("x-ms-request-id", randomUUID());
  res.setHeader("x-ms-keyvault-service-version", "1.9.0.0");
  if (status === 204 || payload === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(payload);
  res.writeHead(status, {
    "Content-Type": "application/json; charset=utf-8",
    "Content-Length": Buffer.byteLength(text),
  });
  res.end(text);
}

export function listeningPort(server: Server): number {
  return (server.address() as AddressInfo).port;
}
