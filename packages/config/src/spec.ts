/**
 * One declarative description of the config file, read by two consumers:
 * the validator (strict, with file/line/column and "did you mean") and the
 * JSON Schema export (editor completion). Keeping both on one description
 * means the schema editors see cannot drift from what the loader accepts.
 * The providers and discovery parts live in provider-spec.ts.
 */
import { DISCOVERY_SPEC, PROVIDERS_SPEC } from "./provider-spec.js";
import { type Spec, str, strings } from "./spec-kind.js";

export { PATH_SETTINGS, PROVIDER_SETTINGS_SPECS } from "./provider-spec.js";
export type { Spec } from "./spec-kind.js";

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
