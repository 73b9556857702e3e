import { randomUUID } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { CallCounter, FaultController } from "../faults.js";
import type { AccessControl, EmulatedToken } from "./acl.js";
import { badRequest, permissionDenied, VaultHttpError } from "./transit-error.js";
import { type TransitMount, type TransitRoute, transitRoute } from "./transit-routes.js";

/** A login role of an AppRole or Kubernetes auth mount. */
export interface LoginRole {
  /** AppRole: the role_id; Kubernetes: the role name. */
  readonly id: string;
  /** AppRole: the secret_id; Kubernetes: the service-account JWT the role accepts. */
  readonly secret: string;
  readonly policies: readonly string[];
  readonly ttlMs: number;
}

export interface AuthMount {
  readonly type: "approle" | "kubernetes";
  readonly roles: Map<string, LoginRole>;
}

export interface VaultState {
  sealed: boolean;
  /** Namespace paths without slashes at either end; "" is the root namespace. */
  readonly namespaces: Set<string>;
  /** Namespace → mount path → keys. */
  readonly mounts: Map<string, Map<string, TransitMount>>;
  /** Namespace → auth mount path (e.g. "approle") → roles. */
  readonly authMounts: Map<string, Map<string, AuthMount>>;
  readonly acl: AccessControl;
  readonly faults: FaultController;
  readonly calls: CallCounter;
  /** Called after each request that may have changed a key (a state file saves then). */
  onKeysChanged: () => void;
}

interface Route {
  readonly operation: string;
  /** Undefined for logins, which need no token. */
  readonly check?: (token: EmulatedToken) => boolean;
  readonly mountType: string;
  readonly handle: (body: Record<string, unknown>, token: EmulatedToken | undefined) => Reply;
}

interface Reply {
  readonly data?: Record<string, unknown> | undefined;
  readonly auth?: Record<string, unknown> | undefined;
}

const MAX_BODY = 1 << 20;
/** Operations that can create, change or delete a key (encrypt may create one). */
const KEY_CHANGES = new Set(["CreateKey", "RotateKey", "ConfigKey", "DeleteKey", "Encrypt"]);
const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, "");
const within = (path: string, prefix: string) =>
  prefix === "" || path === prefix || path.startsWith(`${prefix}/`);
const below = (path: string, prefix: string) => (prefix === "" ? path : path.slice(prefix.length + 1));

export function handler(state: VaultState) {
  return (req: IncomingMessage, res: ServerResponse) => {
    serve(state, req, res).catch((error: unknown) => {
      const failure = error instanceof VaultHttpError ? error : new VaultHttpError(500, String(error));
      send(res, failure.status, failure.body());
    });
  };
}

async function serve(state: VaultState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? "/", "http://emulator");
  const body = await readBody(req);
  if (!url.pathname.startsWith("/v1/")) throw new VaultHttpError(404, "404 page not found");
  const path = trimSlashes(decodeURIComponent(url.pathname.slice("/v1/".length)));
  if (path === "sys/health" || path === "sys/seal-status") {
    // Unauthenticated, and answered while sealed: how clients and load balancers find a usable node.
    const status = { initialized: true, sealed: state.sealed, standby: false, version: "1.17.0+emulator" };
    send(res, path === "sys/health" && state.sealed ? 503 : 200, status);
    return;
  }
  if (state.sealed) throw new VaultHttpError(503, "Vault is sealed");

  const header = req.headers["x-vault-namespace"];
  const full = trimSlashes([trimSlashes(typeof header === "string" ? header : ""), path].join("/"));
  let namespace = "";
  for (const candidate of state.namespaces) {
    if (candidate !== "" && within(full, candidate) && candidate.length > namespace.length)
      namespace = candidate;
  }
  const relative = below(full, namespace);

  let route: Route | undefined;
  let unrouted: unknown;
  try {
    route = resolve(state, namespace, relative, req.method ?? "GET");
  } catch (error) {
    unrouted = error;
  }
  const fault = state.faults.take(route?.operation ?? "Unknown");
  if (fault?.kind === "reset") {
    req.socket.destroy();
    return;
  }
  if (fault?.kind === "throttle") {
    // Vault's rate-limit quotas answer 429 with Retry-After (whole seconds).
    res.setHeader("Retry-After", String(Math.ceil((fault.delayMs ?? 1000) / 1000)));
    throw new VaultHttpError(429, `request path "${relative}": rate limit quota exceeded`);
  }
  if (fault?.kind === "unavailable") {
    throw new VaultHttpError(503, "local node not active but active cluster node not found");
  }
  if (fault?.kind === "latency") {
    await sleep(fault.delayMs ?? 1000);
    if (res.destroyed || req.socket.destroyed) return;
  }

  const tokenHeader = req.headers["x-vault-token"];
  const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? "")?.[1];
  const token = state.acl.lookup(typeof tokenHeader === "string" ? tokenHeader : bearer);
  if (route?.check !== undefined || unrouted !== undefined) {
    // A token reaches its own namespace and those below it; its policies' paths are relative to its own.
    if (token === undefined || !within(namespace, token.namespace)) throw permissionDenied();
    if (unrouted !== undefined) {
      throw unrouted instanceof VaultHttpError && unrouted.status === 404 && !token.root
        ? permissionDenied()
        : unrouted;
    }
    if (!route!.check!(token)) throw permissionDenied();
  }
  const reply = route!.handle(body, token);
  state.calls.record(route!.operation);
  if (KEY_CHANGES.has(route!.operation)) state.onKeysChanged();
  if (reply.data === undefined && reply.auth === undefined) {
    send(res, 204, undefined);
    return;
  }
  send(res, 200, {
    request_id: randomUUID(),
    lease_id: "",
    renewable: false,
    lease_duration: 0,
    data: reply.data ?? null,
    wrap_info: null,
    warnings: null,
    auth: reply.auth ?? null,
    mount_type: route!.mountType,
  });
}

function resolve(state: VaultState, namespace: string, relative: string, method: string): Route {
  if (relative.startsWith("auth/")) return authRoute(state, namespace, relative, method);
  const mounts = state.mounts.get(namespace) ?? new Map<string, TransitMount>();
  let mount: string | undefined;
  for (const candidate of mounts.keys()) {
    if (relative.startsWith(`${candidate}/`) && candidate.length > (mount?.length ?? -1)) mount = candidate;
  }
  if (mount === undefined)
    throw new VaultHttpError(404, `no handler for route "${relative}". route entry not found.`);
  const transit: TransitRoute = transitRoute(mounts.get(mount)!, mount, method, below(relative, mount));
  return {
    operation: transit.operation,
    mountType: "transit",
    check: (token) => state.acl.allows(token, aclPath(token, namespace, relative), transit.capability),
    handle: (body) => ({ data: transit.handle(body) }),
  };
}

/** The path a token's policies are matched against: relative to the token's own namespace. */
function aclPath(token: EmulatedToken, namespace: string, relative: string): string {
  const nested = below(namespace, token.namespace);
  return nested === "" ? relative : `${nested}/${relative}`;
}

function authRoute(state: VaultState, namespace: string, relative: string, method: string): Route {
  const write = method === "POST" || method === "PUT";
  if (relative === "auth/token/lookup-self" && method === "GET") {
    return {
      operation: "LookupSelf",
      mountType: "token",
      check: () => true, // the default policy grants it to every token
      handle: (_body, token) => ({ data: lookupData(token!) }),
    };
  }
  if (relative === "auth/token/renew-self" && write) {
    return {
      operation: "RenewSelf",
      mountType: "token",
      check: () => true,
      handle: (_body, token) => {
        if (!token!.renewable) throw badRequest("lease is not renewable");
        token!.expiresAt = Date.now() + token!.ttlMs;
        token!.renewals += 1;
        return { auth: authData(token!) };
      },
    };
  }
  const login = /^auth\/(.+)\/login$/.exec(relative);
  const mount = login === null ? undefined : state.authMounts.get(namespace)?.get(login[1]!);
  if (login !== null && mount !== undefined && write) {
    return {
      operation: "Login",
      mountType: mount.type,
      handle: (body) => {
        const [idField, secretField] = mount.type === "approle" ? ["role_id", "secret_id"] : ["role", "jwt"];
        const id = typeof body[idField] === "string" ? (body[idField] as string) : "";
        const secret = typeof body[secretField] === "string" ? (body[secretField] as string) : "";
        const role = mount.roles.get(id);
        if (mount.type === "approle" && (role === undefined || role.secret !== secret)) {
          throw badRequest("invalid role or secret ID");
        }
        if (mount.type === "kubernetes" && role === undefined) throw badRequest(`invalid role name "${id}"`);
        if (role!.secret !== secret) throw permissionDenied();
        const token = state.acl.createToken({ namespace, policies: role!.policies, ttlMs: role!.ttlMs });
        return { auth: authData(token) };
      },
    };
  }
  throw new VaultHttpError(404, `no handler for route "${relative}". route entry not found.`);
}

function authData(token: EmulatedToken): Record<string, unknown> {
  return {
    client_token: token.token,
    accessor: token.accessor,
    policies: ["default", ...token.policies],
    token_policies: ["default", ...token.policies],
    metadata: null,
    lease_duration: Math.floor(token.ttlMs / 1000),
    renewable: token.renewable,
    entity_id: "",
    token_type: "service",
    orphan: true,
  };
}

function lookupData(token: EmulatedToken): Record<string, unknown> {
  const ttl =
    token.expiresAt === undefined ? 0 : Math.max(0, Math.floor((token.expiresAt - Date.now()) / 1000));
  return {
    accessor: token.accessor,
    creation_ttl: Math.floor(token.ttlMs / 1000),
    expire_time: token.expiresAt === undefined ? null : new Date(token.expiresAt).toISOString(),
    id: token.token,
    namespace_path: token.namespace === "" ? "" : `${token.namespace}/`,
    policies: token.root ? ["root"] : ["default", ...token.policies],
    renewable: token.renewable,
    ttl,
    type: "service",
  };
}

async function readBody(req: IncomingMessage): Promise<Record<string, unknown>> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY) throw new VaultHttpError(413, "http: request body too large");
    chunks.push(chunk as Buffer);
  }
  if (size === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw badRequest("failed to parse JSON input: invalid character");
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw badRequest("failed to parse JSON input: expected an object");
  }
  return parsed as Record<string, unknown>;
}

function send(res: ServerResponse, status: number, payload: unknown): void {
  if (res.headersSent || res.destroyed) return;
  res.setHeader("Cache-Control", "no-store");
  if (status === 204 || payload === undefined) {
    res.writeHead(status).end();
    return;
  }
  const text = JSON.stringify(payload);
  res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}
