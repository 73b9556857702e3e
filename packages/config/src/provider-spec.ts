/**
 * The providers part of a profile: data-only settings per key URI scheme and
 * discovery filters per provider id (see spec.ts for the whole file).
 */
import { type Spec, str, strings } from "./spec-kind.js";

const INSECURE_TEST_CREDENTIALS: Spec = {
  kind: "boolean",
  description:
    "Static or no-op credentials for an emulator; the provider accepts it only with a loopback endpoint.",
};

/**
 * Vault transit settings. Secrets stay out of the file: no `token` or
 * `appRole.secretId` (config files get committed); the token comes from
 * `tokenFile`, a login, or VAULT_TOKEN, and programs may still pass `token`
 * through `providerOptions`.
 */
function vaultTransitSettings(scheme: string): Spec {
  return {
    kind: "object",
    description: `Settings for ${scheme}:// keys (the server is in the key URI).`,
    fields: {
      tokenFile: str("File holding a Vault token (Vault Agent's sink; relative to this config file)."),
      appRole: {
        kind: "object",
        description: "AppRole login.",
        fields: {
          roleId: str("The role_id."),
          secretIdFile: str(
            "File holding the secret_id, re-read at each login (relative to this config file).",
          ),
          mount: str('Auth mount path (default "approle").'),
        },
        required: ["roleId", "secretIdFile"],
        refused: { secretId: "a secret does not belong in a config file: put it in secretIdFile" },
      },
      kubernetes: {
        kind: "object",
        description: "Kubernetes login with the pod's service-account token.",
        fields: {
          role: str("The Vault role."),
          jwtFile: str(
            "Service-account token file (default: the projected token; relative to this config file).",
          ),
          mount: str('Auth mount path (default "kubernetes").'),
        },
        required: ["role"],
      },
      renewToken: { kind: "boolean", description: "Renew VAULT_TOKEN before it expires." },
      namespace: str("Vault Enterprise / OpenBao namespace (else VAULT_NAMESPACE)."),
      caFile: str("PEM file of the CA that signed Vault's certificate (relative to this config file)."),
      tls: { kind: "boolean", description: "false: plain http://, loopback Vault only (a dev server)." },
      keyType: str("The keys' transit type (else the URI's ?type=, else aes256-gcm96).", [
        "aes128-gcm96",
        "aes256-gcm96",
        "chacha20-poly1305",
        "rsa-2048",
        "rsa-3072",
        "rsa-4096",
      ]),
      derived: {
        kind: "boolean",
        description: "The keys were created with derived=true (else the URI's ?derived=).",
      },
      generateDataKey: {
        kind: "boolean",
        description:
          "Make data keys with transit datakey/plaintext where it binds the context (default true).",
      },
      maxRetries: { kind: "integer", description: "Retries per call (default 2).", minimum: 0, maximum: 10 },
      deadlineMs: {
        kind: "integer",
        description: "Abandon a call, retries included, after this many ms.",
        minimum: 1,
        maximum: 3_600_000,
      },
    },
    refused: {
      token:
        "a token does not belong in a config file: use tokenFile, appRole or kubernetes, or set VAULT_TOKEN",
      ca: "give the CA as caFile",
    },
  };
}

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
  "vault-transit": vaultTransitSettings("vault-transit"),
  hcvault: vaultTransitSettings("hcvault"),
};

const VAULT_PATHS = ["tokenFile", "caFile", "appRole.secretIdFile", "kubernetes.jwtFile"];

/**
 * Settings whose value is a file path, resolved against the config file's
 * directory; "a.b" is field b of the object setting a.
 */
export const PATH_SETTINGS: Readonly<Record<string, readonly string[]>> = {
  "gcp-kms": ["credentialsFile"],
  "azure-keyvault": ["caFile"],
  local: ["keystore"],
  "vault-transit": VAULT_PATHS,
  hcvault: VAULT_PATHS,
};

export const DISCOVERY_SPEC: Spec = {
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
    "vault-transit": {
      kind: "object",
      description: "Vault transit keys (vault-transit:// and hcvault://) on these servers (and mounts).",
      fields: {
        servers: strings(
          "host:port as in the key URIs (port 8200 when absent), e.g. vault.example.com:8200.",
        ),
        mounts: strings(
          "Mount paths, namespace in front (transit, team-a/transit); any when absent. Discovered keys are opened with the profile's vault-transit settings.",
        ),
      },
      required: ["servers"],
    },
    local: {
      kind: "object",
      description: "Any key of the local keystore (set in providers.local).",
      fields: {},
    },
  },
};

export const PROVIDERS_SPEC: Spec = {
  kind: "object",
  description: "Settings per key URI scheme.",
  fields: PROVIDER_SETTINGS_SPECS,
};
