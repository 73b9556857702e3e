import { EnvelopeError } from "@kms-envelope/core";

/** The transit key types that encrypt, as Vault names them. */
export type TransitKeyType =
  | "aes128-gcm96"
  | "aes256-gcm96"
  | "chacha20-poly1305"
  | "rsa-2048"
  | "rsa-3072"
  | "rsa-4096";

export const TRANSIT_KEY_TYPES: readonly TransitKeyType[] = [
  "aes128-gcm96",
  "aes256-gcm96",
  "chacha20-poly1305",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
];

/** A transit key named by server, mount (namespace included) and key name. */
export interface TransitKeyId {
  /** Lowercase host, brackets kept for IPv6. */
  readonly host: string;
  readonly port: number;
  /** Namespace path ("" for the root namespace), sent as X-Vault-Namespace. */
  readonly namespace: string;
  /** Mount path below the namespace: "transit", "kv/eu/transit". */
  readonly mount: string;
  readonly name: string;
  /** Canonical id recorded in envelopes: "host:port/mountPath/keys/name". */
  readonly keyId: string;
}

export const DEFAULT_PORT = 8200;
const SEGMENT = /^[A-Za-z0-9_.@-]+$/;
/** framework.GenericNameRegex, Vault's rule for key names. */
const NAME = /^\w(?:[\w.@-]*\w)?$/;

function fail(value: string, why: string): never {
  throw new EnvelopeError(
    "INVALID_ARGUMENT",
    `"${value}" is not a Vault transit key (expected host[:port]/<mount path>/keys/<name>): ${why}`,
  );
}

const trimSlashes = (value: string) => value.replace(/^\/+|\/+$/g, "");

/**
 * Parses "host[:port]/<mount path>/keys/<name>" (the part of a key URI after
 * "vault-transit://"). The id puts the namespace in front of the mount path:
 * Vault routes `/v1/<namespace>/<mount>/…` exactly as it routes the same
 * request with `X-Vault-Namespace`, so both spellings name one key and get
 * one id.
 */
export function parseTransitKeyId(location: string, namespace = ""): TransitKeyId {
  if (typeof location !== "string" || location.length === 0 || location.length > 1024) {
    fail(String(location), "empty or too long");
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(location)) fail(location, "write it without a scheme");
  const slash = location.indexOf("/");
  if (slash <= 0) fail(location, "no path");
  const authority = location.slice(0, slash);
  let url: URL;
  try {
    url = new URL(`https://${authority}`);
  } catch {
    fail(location, "bad host or port");
  }
  if (url.username !== "" || url.password !== "" || url.pathname !== "/" || url.search !== "") {
    fail(location, "bad host or port");
  }
  const segments = trimSlashes(location.slice(slash)).split("/");
  const keysAt = segments.length - 2;
  if (keysAt < 1 || segments[keysAt] !== "keys") fail(location, "the path must end in /keys/<name>");
  const name = segments[keysAt + 1]!;
  if (!NAME.test(name)) fail(location, `"${name}" is not a transit key name`);
  const namespaceSegments = trimSlashes(namespace).split("/").filter(Boolean);
  const mountSegments = segments.slice(0, keysAt);
  if (![...namespaceSegments, ...mountSegments].every((segment) => SEGMENT.test(segment))) {
    fail(location, "bad namespace or mount path");
  }
  const host = url.hostname.toLowerCase();
  const port = url.port === "" ? DEFAULT_PORT : Number(url.port);
  const mount = mountSegments.join("/");
  const fullPath = [...namespaceSegments, ...mountSegments].join("/");
  return {
    host,
    port,
    namespace: namespaceSegments.join("/"),
    mount,
    name,
    keyId: `${host}:${port}/${fullPath}/keys/${name}`,
  };
}

/** The key version in a transit ciphertext (`vault:v3:…` → 3), or undefined when it is not one. */
export function transitKeyVersion(wrapped: Uint8Array | string): number | undefined {
  const text =
    typeof wrapped === "string" ? wrapped : Buffer.from(wrapped.subarray(0, 24)).toString("latin1");
  const match = /^vault:v([1-9]\d{0,8}):/.exec(text);
  return match === null ? undefined : Number(match[1]);
}
