import { readFile, stat } from "node:fs/promises";
import { EnvelopeError, untilAborted } from "@kms-envelope/core";
import type { VaultHttp } from "./vault-http.js";

/** AppRole login (`auth/<mount>/login` with role_id and secret_id). */
export interface AppRoleLogin {
  roleId: string;
  /** The secret_id, or read from `secretIdFile` at each login. */
  secretId?: string | undefined;
  secretIdFile?: string | undefined;
  /** Auth mount path (default "approle"). */
  mount?: string | undefined;
}

/** Kubernetes login (`auth/<mount>/login` with the role and the pod's service-account JWT). */
export interface KubernetesLogin {
  role: string;
  /** Default: the projected service-account token, re-read at each login. */
  jwtFile?: string | undefined;
  /** Auth mount path (default "kubernetes"). */
  mount?: string | undefined;
}

/** How the KEK gets its Vault token; the first one given wins, then `VAULT_TOKEN`. */
export interface VaultAuthOptions {
  token?: string | undefined;
  /** A file holding the token (e.g. written by Vault Agent); re-read whenever it changes. */
  tokenFile?: string | undefined;
  appRole?: AppRoleLogin | undefined;
  kubernetes?: KubernetesLogin | undefined;
  /**
   * Renew a `token` (or `VAULT_TOKEN`) before it expires, with `auth/token/renew-self`
   * (one `lookup-self` first learns its TTL). Login tokens are always renewed, and
   * logged in again once they cannot be.
   */
  renewToken?: boolean | undefined;
}

export const DEFAULT_KUBERNETES_JWT = "/var/run/secrets/kubernetes.io/serviceaccount/token";

export interface TokenSource {
  /** A live token; logs in or renews first when needed (shared by concurrent callers). */
  get(http: VaultHttp, signal: AbortSignal | undefined): Promise<string>;
  /** What kind of auth this is, for messages (never the token). */
  readonly kind: "token" | "token file" | "AppRole" | "Kubernetes";
}

interface Lease {
  token: string;
  /** Epoch ms; undefined: does not expire (or unknown). */
  expiresAt: number | undefined;
  ttlMs: number;
  renewable: boolean;
}

/** Renew once two thirds of the lease are gone (Vault Agent's rule), or with less than 5 s left. */
const needsRenewal = (lease: Lease) =>
  lease.expiresAt !== undefined && lease.expiresAt - Date.now() < Math.max(5_000, lease.ttlMs / 3);

function leaseOf(auth: unknown, fallbackToken?: string): Lease {
  const data = (auth ?? {}) as {
    client_token?: unknown;
    lease_duration?: unknown;
    ttl?: unknown;
    renewable?: unknown;
  };
  const token = typeof data.client_token === "string" ? data.client_token : fallbackToken;
  if (token === undefined || token === "") {
    throw new EnvelopeError("KMS_INTEGRITY", "Vault's login answer holds no client_token");
  }
  const seconds = typeof data.lease_duration === "number" ? data.lease_duration : Number(data.ttl ?? 0);
  const ttlMs = Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 0;
  return {
    token,
    ttlMs,
    expiresAt: ttlMs > 0 ? Date.now() + ttlMs : undefined,
    renewable: data.renewable === true,
  };
}

async function readSecretFile(path: string, what: string): Promise<string> {
  try {
    const value = (await readFile(path, "utf8")).trim();
    if (value === "") throw new Error("the file is empty");
    return value;
  } catch (error) {
    throw new EnvelopeError("KEY_ACCESS_DENIED", `cannot read the Vault ${what} file ${path}`, {
      cause: error instanceof Error ? new Error(error.message) : error,
    });
  }
}

const json = (value: Record<string, unknown>) => Buffer.from(JSON.stringify(value));

/** A login object from code or a config file: known string fields only, required ones present. */
function checkLogin(value: unknown, name: string, fields: Record<string, boolean>): void {
  if (value === undefined) return;
  if (value === null || typeof value !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", `${name} must be an object`);
  }
  for (const [field, item] of Object.entries(value)) {
    if (!(field in fields)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `unknown ${name} field "${field}" (known: ${Object.keys(fields).join(", ")})`,
      );
    }
    if (item !== undefined && (typeof item !== "string" || item === "")) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${name}.${field} must be a non-empty string`);
    }
  }
  for (const [field, required] of Object.entries(fields)) {
    if (required && (value as Record<string, unknown>)[field] === undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${name}.${field} is required`);
    }
  }
}

export function createTokenSource(options: VaultAuthOptions): TokenSource {
  checkLogin(options.appRole, "appRole", {
    roleId: true,
    secretId: false,
    secretIdFile: false,
    mount: false,
  });
  checkLogin(options.kubernetes, "kubernetes", { role: true, jwtFile: false, mount: false });
  if (
    options.appRole !== undefined &&
    (options.appRole.secretId === undefined) === (options.appRole.secretIdFile === undefined)
  ) {
    throw new EnvelopeError("INVALID_ARGUMENT", "appRole needs exactly one of secretId and secretIdFile");
  }
  for (const name of ["token", "tokenFile"] as const) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "string" || value === "")) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${name} must be a non-empty string`);
    }
  }
  if (options.token !== undefined) return staticToken(options.token, options.renewToken === true);
  if (options.tokenFile !== undefined) return tokenFile(options.tokenFile);
  if (options.appRole !== undefined) {
    const role = options.appRole;
    return loginSource("AppRole", `auth/${role.mount ?? "approle"}/login`, async () => ({
      role_id: role.roleId,
      secret_id: role.secretId ?? (await readSecretFile(role.secretIdFile!, "AppRole secret_id")),
    }));
  }
  if (options.kubernetes !== undefined) {
    const role = options.kubernetes;
    return loginSource("Kubernetes", `auth/${role.mount ?? "kubernetes"}/login`, async () => ({
      role: role.role,
      jwt: await readSecretFile(role.jwtFile ?? DEFAULT_KUBERNETES_JWT, "Kubernetes service-account token"),
    }));
  }
  const fromEnvironment = process.env.VAULT_TOKEN;
  if (fromEnvironment !== undefined && fromEnvironment !== "") {
    return staticToken(fromEnvironment, options.renewToken === true);
  }
  throw new EnvelopeError(
    "INVALID_ARGUMENT",
    "no Vault credentials: pass token, tokenFile, appRole or kubernetes, or set VAULT_TOKEN",
  );
}

/** Runs `work` once for all concurrent callers; each caller's signal only ends its own wait. */
function singleFlight<T>() {
  let pending: Promise<T> | undefined;
  return (work: () => Promise<T>, signal: AbortSignal | undefined): Promise<T> => {
    if (pending === undefined) {
      const started = work().finally(() => {
        if (pending === started) pending = undefined;
      });
      started.catch(() => undefined);
      pending = started;
    }
    return untilAborted(pending, signal);
  };
}

function staticToken(value: string, renew: boolean): TokenSource {
  let lease: Lease | undefined = renew
    ? undefined
    : { token: value, expiresAt: undefined, ttlMs: 0, renewable: false };
  const shared = singleFlight<Lease>();
  return {
    kind: "token",
    async get(http, signal) {
      if (lease !== undefined && !(lease.renewable && needsRenewal(lease))) return lease.token;
      lease = await shared(async () => {
        if (lease === undefined) {
          const answer = await http.send({ method: "GET", path: "auth/token/lookup-self", token: value });
          const data = (answer.data ?? {}) as { ttl?: unknown; renewable?: unknown };
          return leaseOf({ ttl: data.ttl, renewable: data.renewable }, value);
        }
        const renewed = await http.send({
          method: "POST",
          path: "auth/token/renew-self",
          body: json({}),
          token: value,
        });
        return leaseOf(renewed.auth, value);
      }, signal);
      return lease.token;
    },
  };
}

function tokenFile(path: string): TokenSource {
  let cached: { token: string; mtimeMs: number } | undefined;
  return {
    kind: "token file",
    async get() {
      let mtimeMs: number;
      try {
        mtimeMs = (await stat(path)).mtimeMs;
      } catch {
        mtimeMs = -1; // readSecretFile names the problem
      }
      if (cached === undefined || cached.mtimeMs !== mtimeMs) {
        cached = { token: await readSecretFile(path, "token"), mtimeMs };
      }
      return cached.token;
    },
  };
}

function loginSource(
  kind: "AppRole" | "Kubernetes",
  path: string,
  credentials: () => Promise<Record<string, unknown>>,
): TokenSource {
  let lease: Lease | undefined;
  const shared = singleFlight<Lease>();
  const login = async (http: VaultHttp) => {
    const body = json(await credentials());
    try {
      return leaseOf((await http.send({ method: "POST", path, body })).auth);
    } finally {
      body.fill(0);
    }
  };
  return {
    kind,
    async get(http, signal) {
      if (lease !== undefined && !needsRenewal(lease)) return lease.token;
      lease = await shared(async () => {
        const current = lease;
        if (
          current?.renewable === true &&
          current.expiresAt !== undefined &&
          current.expiresAt > Date.now()
        ) {
          try {
            const renewed = await http.send({
              method: "POST",
              path: "auth/token/renew-self",
              body: json({}),
              token: current.token,
            });
            const next = leaseOf(renewed.auth, current.token);
            // A renewal capped by the token's max TTL gives less each time: log in again instead.
            if (!needsRenewal(next)) return next;
          } catch {
            // The token cannot be renewed (revoked, past its max TTL): a fresh login follows.
          }
        }
        return login(http);
      }, signal);
      return lease.token;
    },
  };
}
