import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import { createEmulatorCertificate } from "../azure/certificate.js";
import {
  type CallCounter,
  createCallCounter,
  createFaultController,
  type FaultController,
} from "../faults.js";
import { holdIdleConnections } from "../keep-alive.js";
import {
  AccessControl,
  type Capability,
  type EmulatedToken,
  type PolicyRule,
  type TokenSpec,
} from "./acl.js";
import { type AuthMount, handler, type VaultState } from "./server.js";
import {
  TRANSIT_KEY_TYPES,
  TransitKey,
  type TransitKeyConfig,
  type TransitKeySnapshot,
  type TransitKeyType,
} from "./transit-key.js";
import type { TransitMount } from "./transit-routes.js";

export type {
  Capability,
  EmulatedToken,
  PolicyRule,
  TokenSpec,
  TransitKeyConfig,
  TransitKeySnapshot,
  TransitKeyType,
};

export interface VaultTransitEmulatorOptions {
  /** TCP port on 127.0.0.1; 0 (default) picks a free one. */
  port?: number | undefined;
  /** Serve HTTPS with a certificate generated at start (its PEM is `ca`). Default false: plain HTTP. */
  tls?: boolean | undefined;
  /** The root token's value, like `vault server -dev -dev-root-token-id` (default: random). */
  rootToken?: string | undefined;
  /** Keys to start with (from `snapshotKeys()` of an earlier run). */
  keys?: VaultKeysSnapshot | undefined;
  /** Called after every request or method that may have changed a key: save `snapshotKeys()` there. */
  onKeysChanged?: (() => void) | undefined;
}

/** Every transit key of every namespace and mount, key material included (development only). */
export interface VaultKeysSnapshot {
  readonly mounts: readonly {
    readonly namespace: string;
    readonly mount: string;
    readonly keys: readonly TransitKeySnapshot[];
  }[];
}

/** Where a key, mount or role lives. */
export interface VaultLocation {
  /** Namespace path ("" or absent: root). Created on first use. */
  namespace?: string | undefined;
  /** Transit mount path, slashes allowed (default "transit"). Mounted on first use. */
  mount?: string | undefined;
}

export interface CreateTransitKeyOptions extends VaultLocation {
  type?: TransitKeyType | undefined;
  derived?: boolean | undefined;
}

export interface LoginRoleOptions {
  namespace?: string | undefined;
  /** Auth mount path (default "approle" / "kubernetes"). */
  mount?: string | undefined;
  policies?: readonly string[] | undefined;
  /** Token lifetime (default one hour). */
  ttlMs?: number | undefined;
}

export interface VaultTransitEmulator {
  /** e.g. http://127.0.0.1:PORT (https:// with `tls: true`), without a trailing slash. */
  readonly address: string;
  /** "127.0.0.1:PORT": what a key URI names. */
  readonly hostPort: string;
  /** PEM of the self-signed certificate when serving TLS. */
  readonly ca: string | undefined;
  /** A root token: every path, every namespace. */
  readonly rootToken: string;
  /** Creates a token (a child of nothing) with the given policies, namespace and TTL. */
  createToken(spec?: TokenSpec): EmulatedToken;
  /** Writes an ACL policy, like `vault policy write NAME`. */
  setPolicy(name: string, rules: readonly PolicyRule[]): void;
  /** Creates a transit key (a no-op if it exists), like `vault write MOUNT/keys/NAME`. */
  createKey(name: string, options?: CreateTransitKeyOptions): void;
  rotateKey(name: string, location?: VaultLocation): void;
  configureKey(name: string, config: TransitKeyConfig, location?: VaultLocation): void;
  /** The key's `GET keys/:name` data (versions, config). */
  describeKey(name: string, location?: VaultLocation): Record<string, unknown>;
  /** An AppRole role; its `roleId` and `secretId` log in at `auth/<mount>/login`. */
  addAppRole(options?: LoginRoleOptions): { roleId: string; secretId: string };
  /** A Kubernetes auth role that accepts exactly `jwt` (the emulator makes no TokenReview call). */
  addKubernetesRole(role: string, jwt: string, options?: LoginRoleOptions): void;
  /** Every key of every mount, for a state file; `keys` of a later start restores them. */
  snapshotKeys(): VaultKeysSnapshot;
  /** Sealed: every API path but sys/health and sys/seal-status answers 503 "Vault is sealed". */
  seal(): void;
  unseal(): void;
  /**
   * Faults the next matching requests suffer (operations: Encrypt, Decrypt, Rewrap, DataKey, CreateKey,
   * ReadKey, RotateKey, ConfigKey, DeleteKey, Login, LookupSelf, RenewSelf): "throttle" is a 429 rate-limit
   * answer with `Retry-After: ceil(delayMs / 1000)` (default 1), "unavailable" a 503, "latency" waits
   * `delayMs` then answers, "reset" destroys the connection.
   */
  readonly faults: FaultController;
  /** Requests served (authorized and answered), per operation. */
  readonly calls: CallCounter;
  close(): Promise<void>;
}

/**
 * Starts a loopback server speaking Vault's HTTP API for the transit secrets
 * engine: keys (AES-GCM, ChaCha20-Poly1305, RSA; derived keys), encrypt,
 * decrypt, rewrap, datakey, rotate, key config, token auth with ACL
 * policies, AppRole and Kubernetes logins, token renewal, namespaces, a
 * sealed state and fault injection. Errors are Vault's `{"errors":[…]}`.
 */
export async function startVaultTransitEmulator(
  options: VaultTransitEmulatorOptions = {},
): Promise<VaultTransitEmulator> {
  const state: VaultState = {
    sealed: false,
    namespaces: new Set([""]),
    mounts: new Map(),
    authMounts: new Map(),
    acl: new AccessControl(),
    faults: createFaultController(),
    calls: createCallCounter(),
    onKeysChanged: options.onKeysChanged ?? (() => {}),
  };
  const root = state.acl.createToken({ root: true, token: options.rootToken });

  const namespaceOf = (value: string | undefined) => {
    const namespace = (value ?? "").replace(/^\/+|\/+$/g, "");
    // Every ancestor is a namespace too.
    const parts = namespace === "" ? [] : namespace.split("/");
    for (let i = 1; i <= parts.length; i++) state.namespaces.add(parts.slice(0, i).join("/"));
    return namespace;
  };
  const mountOf = (location: VaultLocation = {}): TransitMount => {
    const namespace = namespaceOf(location.namespace);
    const path = (location.mount ?? "transit").replace(/^\/+|\/+$/g, "");
    const mounts = getOrAdd(state.mounts, namespace, () => new Map<string, TransitMount>());
    return getOrAdd(mounts, path, (): TransitMount => new Map());
  };
  const keyOf = (name: string, location?: VaultLocation) => {
    const key = mountOf(location).get(name);
    if (key === undefined) throw new Error(`no transit key ${name}`);
    return key;
  };
  const authMountOf = (type: AuthMount["type"], role: LoginRoleOptions) => {
    const namespace = namespaceOf(role.namespace);
    const mounts = getOrAdd(state.authMounts, namespace, () => new Map<string, AuthMount>());
    const mount = getOrAdd(mounts, role.mount ?? type, (): AuthMount => ({ type, roles: new Map() }));
    return { namespace, mount };
  };
  mountOf();
  for (const saved of options.keys?.mounts ?? []) {
    const mount = mountOf({ namespace: saved.namespace, mount: saved.mount });
    for (const key of saved.keys) mount.set(key.name, TransitKey.restore(key));
  }
  /** Direct changes (createKey, rotateKey, configureKey) are saved like requests. */
  const changed = <T>(result: T): T => {
    state.onKeysChanged();
    return result;
  };

  let ca: string | undefined;
  let server: Server;
  if (options.tls === true) {
    // The same self-signed loopback certificate the Key Vault emulator serves.
    const pems = await createEmulatorCertificate();
    ca = pems.cert;
    server = createHttpsServer({ key: pems.private, cert: pems.cert }, handler(state));
  } else {
    server = createHttpServer(handler(state));
  }
  holdIdleConnections(server);
  server.listen(options.port ?? 0, "127.0.0.1");
  await once(server, "listening");
  const port = (server.address() as AddressInfo).port;
  const hostPort = `127.0.0.1:${port}`;

  return {
    address: `${options.tls === true ? "https" : "http"}://${hostPort}`,
    hostPort,
    ca,
    rootToken: root.token,
    createToken: (spec) => state.acl.createToken({ ...spec, namespace: namespaceOf(spec?.namespace) }),
    setPolicy: (name, rules) => state.acl.setPolicy(name, rules),
    createKey(name, keyOptions = {}) {
      const mount = mountOf(keyOptions);
      const type = keyOptions.type ?? "aes256-gcm96";
      if (!TRANSIT_KEY_TYPES.includes(type)) throw new Error(`unknown transit key type "${String(type)}"`);
      if (!mount.has(name)) {
        mount.set(name, new TransitKey(name, type, keyOptions.derived ?? false));
        changed(undefined);
      }
    },
    rotateKey: (name, location) => changed(keyOf(name, location).rotate()),
    configureKey: (name, config, location) => changed(keyOf(name, location).configure(config)),
    snapshotKeys: () => ({
      mounts: [...state.mounts].flatMap(([namespace, mounts]) =>
        [...mounts].map(([mount, keys]) => ({
          namespace,
          mount,
          keys: [...keys.values()].map((key) => key.snapshot()),
        })),
      ),
    }),
    describeKey: (name, location) => keyOf(name, location).describe(),
    addAppRole(role = {}) {
      const { mount } = authMountOf("approle", role);
      const roleId = randomBytes(16).toString("hex");
      const secretId = randomBytes(16).toString("hex");
      mount.roles.set(roleId, {
        id: roleId,
        secret: secretId,
        policies: role.policies ?? [],
        ttlMs: role.ttlMs ?? 3_600_000,
      });
      return { roleId, secretId };
    },
    addKubernetesRole(name, jwt, role = {}) {
      const { mount } = authMountOf("kubernetes", role);
      mount.roles.set(name, {
        id: name,
        secret: jwt,
        policies: role.policies ?? [],
        ttlMs: role.ttlMs ?? 3_600_000,
      });
    },
    seal: () => {
      state.sealed = true;
    },
    unseal: () => {
      state.sealed = false;
    },
    faults: state.faults,
    calls: state.calls,
    async close() {
      const closed = once(server, "close");
      server.close();
      server.closeAllConnections();
      await closed;
    },
  };
}

function getOrAdd<K, V>(map: Map<K, V>, key: K, make: () => V): V {
  let value = map.get(key);
  if (value === undefined) {
    value = make();
    map.set(key, value);
  }
  return value;
}
