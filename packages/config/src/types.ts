import type { LocationMap } from "./validate.js";

/** `aws-kms` settings a file can carry (data only). */
export interface AwsKmsSettings {
  region?: string;
  endpoint?: string;
  profile?: string;
  maxAttempts?: number;
  retryMode?: "standard" | "adaptive";
  insecureTestCredentials?: boolean;
}

/** `gcp-kms` settings a file can carry (data only). */
export interface GcpKmsSettings {
  endpoint?: string;
  transport?: "grpc" | "rest";
  /** Absolute once loaded (relative paths are resolved against the config file's directory). */
  credentialsFile?: string;
  insecureTestCredentials?: boolean;
}

/** `azure-keyvault` settings a file can carry (data only). */
export interface AzureKeyVaultSettings {
  credential?: "default" | "cli" | "managed-identity" | "environment";
  tenantId?: string;
  /** Absolute once loaded. */
  caFile?: string;
  insecureTestCredentials?: boolean;
}

/** `local` settings a file can carry. */
export interface LocalSettings {
  /** Absolute once loaded. */
  keystore?: string;
}

/**
 * `vault-transit` (and `hcvault`) settings a file can carry: no inline token
 * or secret_id, only files holding them. Paths are absolute once loaded.
 */
export interface VaultTransitSettings {
  tokenFile?: string;
  appRole?: { roleId: string; secretIdFile: string; mount?: string };
  kubernetes?: { role: string; jwtFile?: string; mount?: string };
  renewToken?: boolean;
  namespace?: string;
  caFile?: string;
  tls?: boolean;
  keyType?: "aes128-gcm96" | "aes256-gcm96" | "chacha20-poly1305" | "rsa-2048" | "rsa-3072" | "rsa-4096";
  derived?: boolean;
  generateDataKey?: boolean;
  maxRetries?: number;
  deadlineMs?: number;
}

/** Settings per key URI scheme. */
export interface ProviderSettings {
  "aws-kms"?: AwsKmsSettings;
  "gcp-kms"?: GcpKmsSettings;
  "azure-keyvault"?: AzureKeyVaultSettings;
  local?: LocalSettings;
  "vault-transit"?: VaultTransitSettings;
  hcvault?: VaultTransitSettings;
}

/** Which envelope entries discovery may open, per provider. */
export interface DiscoveryFilters {
  "aws-kms"?: { partition: string; accounts: string[]; regions?: string[] };
  "gcp-kms"?: { projects: string[]; locations?: string[] };
  "azure-keyvault"?: { vaults: string[] };
  /** Transit keys (vault-transit:// and hcvault://) on these servers, and in these mounts. */
  "vault-transit"?: { servers: string[]; mounts?: string[] };
  /** Any key of the profile's local keystore. */
  local?: Record<string, never>;
}

/** A context key that must be present on decrypt, with its value when pinned. */
export interface RequiredContextKey {
  readonly key: string;
  readonly value?: string;
}

/** The profile's data-key cache (docs/caching.md). */
export interface CacheSettings {
  encrypt?: { maxAgeMs: number; maxMessages: number; maxBytes: number; capacity?: number };
  decrypt?: { ttlMs: number; capacity: number };
  partition?: string;
}

/** The profile's KMS-call limits (docs/caching.md). */
export interface LimitSettings {
  callTimeoutMs?: number;
  deadlineMs?: number;
  rateLimit?: { requestsPerSecond: number; burst?: number };
  retry?: { maxAttempts?: number; baseDelayMs?: number; maxDelayMs?: number };
  hedgeAfterMs?: number;
  unreachableExtras?: "fail" | "skip";
}

export interface ProfileConfig {
  description?: string;
  /** Wrap new envelopes: the first is the primary. */
  encrypt: string[];
  /** Unwrap only. */
  decrypt: string[];
  /** Added to the context on encrypt. */
  context: Record<string, string>;
  requireContext: RequiredContextKey[];
  discovery?: DiscoveryFilters;
  providers: ProviderSettings;
  cache?: CacheSettings;
  limits?: LimitSettings;
}

export interface PathRule {
  /** The glob (`path`) or regular expression (`pathRegex`) as written. */
  readonly pattern: string;
  readonly kind: "glob" | "regex";
  readonly profile: string;
  /** Compiled; matched against the path relative to the config file's directory. */
  readonly regex: RegExp;
}

/** How the config file was found. */
export type ConfigFoundBy = "argument" | "env" | "search" | "user" | "text";

export interface LoadedConfig {
  /** Absolute path of the file (or the name given to `parseConfig`). */
  readonly file: string;
  /** Directory relative paths and path rules are taken against. */
  readonly dir: string;
  readonly foundBy: ConfigFoundBy;
  readonly defaultProfile: string | undefined;
  readonly profiles: Readonly<Record<string, ProfileConfig>>;
  readonly rules: readonly PathRule[];
  /** Line and column of each value, by its path ("profiles.prod.encrypt[0]"). */
  readonly locations: LocationMap;
}

/** Environment variables as `process.env` holds them. */
export type Env = Readonly<Record<string, string | undefined>>;
