import { spawn } from "node:child_process";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { buildIfStale } from "@kms-envelope/conformance";

const here = dirname(fileURLToPath(import.meta.url));
const CHILD = join(here, "fixtures", "credential-child.mjs");
/** The child imports the built package (its own name resolves to dist): build it first when stale. */
export const ensureBuilt = () => buildIfStale(resolve(here, ".."));

/** Variables @azure/identity and MSAL read to pick a credential or an identity source. */
const IDENTITY_VARIABLES = /^(AZURE_|IDENTITY_|MSI_|IMDS_|IDENTITY_SERVER_THUMBPRINT$|NODE_EXTRA_CA_CERTS$)/;

export interface ChildResult {
  /** The versioned kid the wrap recorded, after a round trip. */
  readonly keyId?: string;
  /** The unwrapped DEK equals the wrapped one. */
  readonly roundTrip?: boolean;
  readonly error?: { readonly code?: string; readonly message: string; readonly everything: string };
  /** Hosts the child's own loopback guard refused a connection to. */
  readonly refused: readonly string[];
}

/**
 * Opens `uri` with `settings` (a config file's data) in a fresh Node process
 * whose environment holds only `env` of the identity variables, and wraps then
 * unwraps a DEK through the built package. A fresh process per case because
 * MSAL picks the managed identity source, and caches its tokens, once per
 * process; the child runs the loopback guard too.
 */
export function runCredentialChild(
  uri: string,
  settings: Record<string, unknown>,
  env: Record<string, string>,
): Promise<ChildResult> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !IDENTITY_VARIABLES.test(name)),
  );
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD], {
      env: { ...base, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stdout.on("data", (chunk) => {
      out += chunk;
    });
    child.stderr.on("data", (chunk) => {
      err += chunk;
    });
    child.on("error", reject);
    child.on("close", (status) => {
      try {
        resolve(JSON.parse(out) as ChildResult);
      } catch {
        reject(new Error(`credential child exited ${String(status)}: ${err || out}`));
      }
    });
    child.stdin.end(JSON.stringify({ uri, settings }));
  });
}

/** A secret in every spelling it could leak in: as is, form/URL-encoded, base64, base64url, hex. */
export function spellings(secret: string): string[] {
  const bytes = Buffer.from(secret, "utf8");
  return [
    secret,
    encodeURIComponent(secret),
    bytes.toString("base64").replace(/=+$/, ""),
    bytes.toString("base64url"),
    bytes.toString("hex"),
  ];
}

/** Which of `secrets` appear, in any spelling, in `text`. */
export function leaked(text: string, secrets: Record<string, string>): string[] {
  return Object.entries(secrets)
    .filter(([, secret]) => spellings(secret).some((spelling) => text.includes(spelling)))
    .map(([name]) => name);
}
