import type { KMSClient, KMSClientConfig } from "@aws-sdk/client-kms";
import { EnvelopeError, type KeyUriOpenOptions, type KeyUriProvider } from "@kms-envelope/core";
import { parseKmsArn } from "./arn.js";
import {
  AWS_KMS_PROVIDER,
  type AwsKmsEncryptionAlgorithm,
  type AwsKmsKekOptions,
  createAwsKmsKek,
} from "./aws-kms-kek.js";

const QUERY_KEYS = new Set(["region", "algorithm", "mrk"]);
const OPTION_KEYS = new Set([
  "client",
  "region",
  "maxAttempts",
  "retryMode",
  "clientConfig",
  "grantTokens",
  "mrkAware",
]);

/**
 * `aws-kms://<key ARN | alias ARN>` or `aws-kms://<key id | alias/name>?region=…`,
 * plus `&algorithm=RSAES_OAEP_SHA_256` for an RSA key and `&mrk=true` to
 * accept other-region copies of a multi-Region key. Provider options (the
 * registry's `aws-kms` entry) may set `client`, `region`, `maxAttempts`,
 * `retryMode`, `clientConfig`, `grantTokens` and `mrkAware`.
 */
export const awsKmsUriProvider: KeyUriProvider = Object.freeze({
  scheme: "aws-kms",
  provider: AWS_KMS_PROVIDER,
  open(location: string, options: KeyUriOpenOptions) {
    const [keyId = "", query, ...rest] = location.split("?");
    if (keyId.length === 0 || rest.length > 0) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"aws-kms://${location}" does not name a key`);
    }
    for (const name of Object.keys(options)) {
      // A misspelt option would otherwise be silently ignored (and, say, retries left at the default).
      if (!OPTION_KEYS.has(name))
        throw new EnvelopeError("INVALID_ARGUMENT", `unknown aws-kms provider option "${name}"`);
    }
    const params = new URLSearchParams(query ?? "");
    for (const name of params.keys()) {
      if (!QUERY_KEYS.has(name))
        throw new EnvelopeError("INVALID_ARGUMENT", `unknown aws-kms:// parameter "${name}"`);
    }
    const arn = parseKmsArn(keyId);
    if (keyId.startsWith("arn:") && arn === undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"${keyId}" is not a KMS key or alias ARN`);
    }
    const region = params.get("region") ?? (optional(options, "region", "string") as string | undefined);
    if (arn !== undefined && region !== undefined && region !== arn.region) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `region ${region} contradicts the ARN's region ${arn.region}`,
      );
    }
    const client = optional(options, "client", "object") as KMSClient | undefined;
    if (arn === undefined && region === undefined && client === undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `"aws-kms://${keyId}" needs ?region=… (or use the key ARN)`,
      );
    }
    const mrk = params.get("mrk");
    if (mrk !== null && mrk !== "true" && mrk !== "false") {
      throw new EnvelopeError("INVALID_ARGUMENT", 'aws-kms:// parameter "mrk" must be true or false');
    }
    const kekOptions: AwsKmsKekOptions = {
      keyId,
      client,
      // The region goes to a created client only; an injected client has its own.
      region: client === undefined ? (region ?? arn?.region) : undefined,
      maxAttempts: optional(options, "maxAttempts", "number") as number | undefined,
      retryMode: optional(options, "retryMode", "string") as "standard" | "adaptive" | undefined,
      clientConfig: optional(options, "clientConfig", "object") as KMSClientConfig | undefined,
      grantTokens: optional(options, "grantTokens", "object") as string[] | undefined,
      encryptionAlgorithm: (params.get("algorithm") ?? undefined) as AwsKmsEncryptionAlgorithm | undefined,
      mrkAware:
        mrk === null ? (optional(options, "mrkAware", "boolean") as boolean | undefined) : mrk === "true",
    };
    return createAwsKmsKek(kekOptions);
  },
  uriFor: (keyId: string) => `aws-kms://${keyId}`,
});

function optional(
  options: KeyUriOpenOptions,
  name: string,
  type: "string" | "number" | "boolean" | "object",
): unknown {
  const value = options[name];
  if (value === undefined) return undefined;
  if (typeof value !== type || value === null) {
    throw new EnvelopeError("INVALID_ARGUMENT", `aws-kms provider option "${name}" must be a ${type}`);
  }
  return value;
}
