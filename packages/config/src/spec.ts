/**
 * One declarative description of the config file, read by two consumers:
 * the validator (strict, with file/line/column and "did you mean") and the
 * JSON Schema export (editor completion). Keeping both on one description
 * means the schema editors see cannot drift from what the loader accepts.
 */
export type Spec =
  | { readonly kind: "string"; readonly description?: string; readonly enum?: readonly string[] }
  | {
      readonly kind: "integer";
      readonly description?: string;
      readonly minimum?: number;
      readonly maximum?: number;
    }
  | { readonly kind: "boolean"; readonly description?: string }
  | { readonly kind: "array"; readonly description?: string; readonly items: Spec }
  | {
      readonly kind: "object";
      readonly description?: string;
      readonly fields: Readonly<Record<string, Spec>>;
      readonly required?: readonly string[];
    }
  | {
      readonly kind: "map";
      readonly description?: string;
      readonly values: Spec;
      /** At most this many entries (a one-entry map is `{ key: value }` in a list). */
      readonly maxEntries?: number;
    }
  | { readonly kind: "union"; readonly description?: string; readonly options: readonly Spec[] };

const str = (description: string, values?: readonly string[]): Spec =>
  values === undefined ? { kind: "string", description } : { kind: "string", description, enum: values };
const strings = (description: string): Spec => ({ kind: "array", description, items: { kind: "string" } });

const INSECURE_TEST_CREDENTIALS: Spec = {
  kind: "boolean",
  description:
    "Static or no-op credentials for an emulator; the provider accepts it only with a loopback endpoint.",
};

/**
 * Data-only provider settings, per URI scheme: what a file can say. Code-only
 * options (SDK clients, credential objects) are passed by programs through
 * `providerOptions` and override these.
 */
export const PROVIDER_SETTINGS_SPECS: Readonly<Record<string, Spec>> = {
  "aws-kms": {
    kind: "object",
    description: "Settings for aws-kms:// keys.",
    fields: {
      region: str(
        "Region for key ids and alias names without an ARN (else AWS_REGION / AWS_DEFAULT_REGION).",
      ),
      endpoint: str("KMS endpoint URL (an emulator, a VPC endpoint)."),
      profile: str("Shared-config profile to take credentials from."),
      maxAttempts: { kind: "integer", description: "SDK attempts per KMS call.", minimum: 1, maximum: 20 },
      retryMode: str("SDK retry mode.", ["standard", "adaptive"]),
      insecureTestCredentials: INSECURE_TEST_CREDENTIALS,
    },
  },
  "gcp-kms": {
    kind: "object",
    description: "Settings for gcp-kms:// keys.",
    fields: {
      endpoint: str("Cloud KMS endpoint URL (http:// only for loopback)."),
      transport: str("Wire protocol.", ["grpc", "rest"]),
      credentialsFile: str("Service-account or external-account JSON file (relative to this config file)."),
      insecureTestCredentials: INSECURE_TEST_CREDENTIALS,
    },
  },
  "azure-keyvault": {
    kind: "object",
    description: "Settings for azure-keyvault:// keys.",
    fields: {
      credential: str("Which Azure identity to use.", ["default", "cli", "managed-identity", "environment"]),
      tenantId: str("Microsoft Entra tenant id."),
      caFile: str("PEM file of extra CAs to trust (relative to this config file), e.g. an emulator's."),
      insecureTestCredentials: INSECURE_TEST_CREDENTIALS,
    },
  },
  local: {
    kind: "object",
    description: "Settings for local:// keys.",
    fields: { keystore: str("Keystore file (relative to this config file).") },
  },
};

/** Settings whose value is a file path, resolved against the config file's directory. */
export const PATH_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  "gcp-kms": ["credentialsFile"],
  "azure-keyvault": ["caFile"],
  local: ["keystore"],
};

const DISCOVERY_SPEC: Spec = {
  kind: "object",
  description:
    "Unwrap with keys the profile does not list, named by the envelope, when they pass these filters. Off unless set.",
  fields: {
    "aws-kms": {
      kind: "object",
      description: "AWS keys of these accounts (and regions) in this partition.",
      fields: {
        partition: str("ARN partition: aws, aws-cn, aws-us-gov…"),
        accounts: strings("12-digit account ids."),
        regions: strings("Regions; any when absent."),
      },
      required: ["partition", "accounts"],
    },
    "gcp-kms": {
      kind: "object",
      description: "Cloud KMS keys of these projects (and locations).",
      fields: { projects: strings("Project ids."), locations: strings("Locations; any when absent.") },
      required: ["projects"],
    },
    "azure-keyvault": {
      kind: "object",
      description: "Key Vault keys in these vaults.",
      fields: { vaults: strings("Vault hosts, e.g. myvault.vault.azure.net.") },
      required: ["vaults"],
    },
    local: {
      kind: "object",
      description: "Any key of the local keystore (set in providers.local).",
      fields: {},
    },
  },
};

const PROVIDERS_SPEC: Spec = {
  kind: "object",
  description: "Settings per key URI scheme.",
  fields: PROVIDER_SETTINGS_SPECS,
};

const count = (description: string, maximum = Number.MAX_SAFE_INTEGER): Spec => ({
  kind: "integer",
  description,
  minimum: 1,
  maximum,
});
const millis = (description: string, minimum = 1): Spec => ({
  kind: "integer",
  description,
  minimum,
  maximum: Number.MAX_SAFE_INTEGER,
});

/** The data-key cache (docs/caching.md): each side off unless given; encrypt's bounds all required. */
const CACHE_SPEC: Spec = {
  kind: "object",
  description: "Data-key cache (docs/caching.md). Give encrypt and/or decrypt.",
  fields: {
    encrypt: {
      kind: "object",
      description: "Reuse one DEK across encrypts, within every bound.",
      fields: {
        maxAgeMs: millis("A DEK is reused for at most this long after it was made."),
        maxMessages: count("…for at most this many messages."),
        maxBytes: count("…and at most this many plaintext bytes in total."),
        capacity: count("Partitions kept at once (least recently used evicted first). Default 64."),
      },
      required: ["maxAgeMs", "maxMessages", "maxBytes"],
    },
    decrypt: {
      kind: "object",
      description: "Keep unwrapped DEKs, by exact wrapped key and context.",
      fields: {
        ttlMs: millis("An unwrapped DEK is kept this long."),
        capacity: count("Unwrapped DEKs kept at once (least recently used evicted first)."),
      },
      required: ["ttlMs", "capacity"],
    },
    partition: str("Share encrypt-side DEKs among keyrings naming the same partition (and KEKs)."),
  },
};

/** Deadlines, rate limit, retries, hedging, unreachable extras (docs/caching.md). */
const LIMITS_SPEC: Spec = {
  kind: "object",
  description: "How the keyring treats each KMS call (docs/caching.md).",
  fields: {
    callTimeoutMs: millis("Each KMS call fails as KMS_UNAVAILABLE after this long."),
    deadlineMs: millis("One encrypt, decrypt or rewrap ends as ABORTED after this long."),
    rateLimit: {
      kind: "object",
      description: "A token bucket per KEK.",
      fields: {
        requestsPerSecond: count("Sustained KMS calls per second per KEK."),
        burst: count("Calls allowed at once after a quiet spell. Default: one second's worth."),
      },
      required: ["requestsPerSecond"],
    },
    retry: {
      kind: "object",
      description: "Core's retries on KMS_THROTTLED / KMS_UNAVAILABLE (full jitter, Retry-After, a budget).",
      fields: {
        maxAttempts: count("Attempts per KMS call, the first included. Default 3.", 20),
        baseDelayMs: millis("The first retry waits up to this long. Default 50.", 0),
        maxDelayMs: millis("The cap on one wait. Default 2000.", 0),
      },
    },
    hedgeAfterMs: millis("Decrypt: start the next KEK too when the current one is this slow.", 0),
    unreachableExtras: str("When an extra KEK cannot be reached on encrypt.", ["fail", "skip"]),
  },
};

/**
 * A profile. New sections go in `fields` here and in `ProfileConfig`, with
 * the code that honours them.
 */
export const PROFILE_SPEC: Spec = {
  kind: "object",
  description: "What a program encrypts and decrypts with.",
  fields: {
    description: str("Free text, for people (and `describeConfig`)."),
    encrypt: strings("Key URIs that wrap new envelopes: the first is the primary, the others also wrap."),
    decrypt: strings("Key URIs only used to decrypt (old keys, the cloud being left)."),
    context: { kind: "map", description: "Encryption context added on encrypt.", values: { kind: "string" } },
    requireContext: {
      kind: "array",
      description:
        "Context keys that must be present on decrypt: `key`, or `{ key: value }` to pin its value.",
      items: {
        kind: "union",
        options: [{ kind: "string" }, { kind: "map", values: { kind: "string" }, maxEntries: 1 }],
      },
    },
    discovery: DISCOVERY_SPEC,
    providers: PROVIDERS_SPEC,
    cache: CACHE_SPEC,
    limits: LIMITS_SPEC,
  },
};

export const RULE_SPEC: Spec = {
  kind: "object",
  description:
    "Picks a profile by file path; the first matching rule wins. Give `path` (glob) or `pathRegex`.",
  fields: {
    path: str("Glob against the path relative to this file's directory: *, ** and ? (e.g. secrets/prod/**)."),
    pathRegex: str("Regular expression against the same relative path (forward slashes)."),
    profile: str("The profile this rule picks."),
  },
  required: ["profile"],
};

export const CONFIG_SPEC: Spec = {
  kind: "object",
  description: "kms-envelope configuration: named profiles and the rules that pick them.",
  fields: {
    $schema: str("JSON Schema reference, for editors."),
    default: str("The profile used when no flag, KMS_ENVELOPE_PROFILE or rule picks one."),
    profiles: { kind: "map", description: "Named profiles.", values: PROFILE_SPEC },
    rules: { kind: "array", description: "Path rules, in order.", items: RULE_SPEC },
  },
  required: ["profiles"],
};
