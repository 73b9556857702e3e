import { randomBytes } from "node:crypto";

/** Vault ACL capabilities (sudo is accepted and means nothing here). */
export type Capability = "create" | "read" | "update" | "delete" | "list" | "sudo" | "deny";

/** One `path "…" { capabilities = [...] }` block of a policy. */
export interface PolicyRule {
  /** A path relative to the policy's namespace: exact, ending in `*` (prefix), or with `+` segments. */
  readonly path: string;
  readonly capabilities: readonly Capability[];
}

export interface EmulatedToken {
  readonly token: string;
  readonly accessor: string;
  /** Namespace the token lives in ("" for root); it reaches that namespace and its children. */
  readonly namespace: string;
  readonly policies: readonly string[];
  readonly root: boolean;
  readonly renewable: boolean;
  /** Lifetime granted on creation and on each renewal (0: never expires). */
  readonly ttlMs: number;
  expiresAt: number | undefined;
  /** Renewals served, so tests can check a client renews. */
  renewals: number;
}

export interface TokenSpec {
  policies?: readonly string[] | undefined;
  namespace?: string | undefined;
  ttlMs?: number | undefined;
  renewable?: boolean | undefined;
  root?: boolean | undefined;
  /** The token's value (default: a random hvs.… string). */
  token?: string | undefined;
}

function matches(pattern: string, path: string): boolean {
  const glob = pattern.endsWith("*");
  const fixed = glob ? pattern.slice(0, -1) : pattern;
  const patternParts = fixed.split("/");
  const pathParts = path.split("/");
  if (!glob && patternParts.length !== pathParts.length) return false;
  if (glob && pathParts.length < patternParts.length) return false;
  return patternParts.every((part, i) => {
    const actual = pathParts[i]!;
    if (part === "+") return true;
    // The last segment of a glob pattern matches as a string prefix ("transit/enc*").
    return glob && i === patternParts.length - 1 ? actual.startsWith(part) : actual === part;
  });
}

/** Vault's priority, simplified: an exact rule beats any glob; among globs, the longest wins. */
function priority(pattern: string): number {
  const wildcards = (pattern.match(/\+/g) ?? []).length;
  return (pattern.endsWith("*") ? 0 : 1_000_000) + pattern.length * 10 - wildcards;
}

/** Tokens and policies, as a Vault core holds them. */
export class AccessControl {
  readonly tokens = new Map<string, EmulatedToken>();
  readonly policies = new Map<string, readonly PolicyRule[]>();

  setPolicy(name: string, rules: readonly PolicyRule[]): void {
    this.policies.set(name, rules);
  }

  createToken(spec: TokenSpec = {}): EmulatedToken {
    const ttlMs = spec.ttlMs ?? 0;
    const token: EmulatedToken = {
      token: spec.token ?? `hvs.${randomBytes(18).toString("base64url")}`,
      accessor: randomBytes(12).toString("base64url"),
      namespace: spec.namespace ?? "",
      policies: spec.policies ?? [],
      root: spec.root ?? false,
      renewable: spec.renewable ?? ttlMs > 0,
      ttlMs,
      expiresAt: ttlMs > 0 ? Date.now() + ttlMs : undefined,
      renewals: 0,
    };
    this.tokens.set(token.token, token);
    return token;
  }

  /** The live token for a header value, or undefined (unknown, revoked or expired). */
  lookup(value: string | undefined): EmulatedToken | undefined {
    if (value === undefined || value === "") return undefined;
    const token = this.tokens.get(value);
    if (token === undefined) return undefined;
    if (token.expiresAt !== undefined && Date.now() >= token.expiresAt) {
      this.tokens.delete(value);
      return undefined;
    }
    return token;
  }

  /** Whether `token` holds `capability` on `path` (relative to the token's namespace). */
  allows(token: EmulatedToken, path: string, capability: Capability): boolean {
    if (token.root) return true;
    let best: { rank: number; caps: Set<Capability> } | undefined;
    for (const name of token.policies) {
      for (const rule of this.policies.get(name) ?? []) {
        if (!matches(rule.path, path)) continue;
        const rank = priority(rule.path);
        if (best === undefined || rank > best.rank) best = { rank, caps: new Set(rule.capabilities) };
        else if (rank === best.rank) for (const cap of rule.capabilities) best.caps.add(cap);
      }
    }
    if (best === undefined || best.caps.has("deny")) return false;
    return best.caps.has(capability);
  }
}
