import type { KMSClient, KMSClientConfig } from "@aws-sdk/client-kms";
import { EnvelopeError, type KeyUriProvider, readOpenOptions } from "@kms-envelope/core";
import { parseKmsArn } from "./arn.js";
import { AWS_KMS_PROVIDER, type AwsKmsEncryptionAlgorithm, createAwsKmsKek } from "./aws-kms-kek.js";

const QUERY_KEYS = new Set(["region", "algorithm", "mrk"]);

/** The registry's `aws-kms` options: data a config file can carry, then code-only objects. */
const OPTIONS = {
  region: "string",
  endpoint: "string",
  profile: "string",
  maxAttempts: "number",
  retryMode: "string",
  insecureTestCredentials: "boolean",
  grantTokens: "string[]",
  mrkAware: "boolean",
  client: "object",
  clientConfig: "object",
} as const;

/**
 * `aws-kms://<key ARN | alias ARN>` or `aws-kms://<key id | alias/name>?region=…`,
 * plus `&algorithm=RSAES_OAEP_SHA_256` for an RSA key and `&mrk=true` to
 * accept other-region copies of a multi-Region key. Provider options (the
 * registry's `aws-kms` entry): `region`, `endpoint`, `profile`, `maxAttempts`,
 * `retryMode`, `insecureTestCredentials`, `grantTokens`, `mrkAware`, and from
 * code `client` or `clientConfig`. The region falls back on AWS_REGION, then
 * AWS_DEFAULT_REGION.
 */
export const awsKmsUriProvider: KeyUriProvider = Object.freeze({
  scheme: "aws-kms",
  provider: AWS_KMS_PROVIDER,
  open(location: string, given: unknown) {
    const [keyId = "", query, ...rest] = location.split("?");
    if (keyId.length === 0 || rest.length > 0) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"aws-kms://${location}" does not name a key`);
    }
    const options = readOpenOptions("aws-kms", given, OPTIONS);
    const params = new URLSearchParams(query ?? "");
    for (const name of params.keys()) {
      if (!QUERY_KEYS.has(name))
        throw new EnvelopeError("INVALID_ARGUMENT", `unknown aws-kms:// parameter "${name}"`);
    }
    const arn = parseKmsArn(keyId);
    if (keyId.startsWith("arn:") && arn === undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"${keyId}" is not a KMS key or alias ARN`);
    }
    const region = params.get("region") ?? options.region;
    if (arn !== undefined && region !== undefined && region !== arn.region) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `region ${region} contradicts the ARN's region ${arn.region}`,
      );
    }
    const client = options.client as KMSClient | undefined;
    const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (arn === undefined && region === undefined && client === undefined && envRegion === undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `"aws-kms://${keyId}" needs ?region=… (or use the key ARN)`,
      );
    }
    const mrk = params.get("mrk");
    if (mrk !== null && mrk !== "true" && mrk !== "false") {
      throw new EnvelopeError("INVALID_ARGUMENT", 'aws-kms:// parameter "mrk" must be true or false');
    }
    const retryMode = options.retryMode;
    if (retryMode !== undefined && retryMode !== "standard" && retryMode !== "adaptive") {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        'aws-kms provider option "retryMode" must be "standard" or "adaptive"',
      );
    }
    return createAwsKmsKek({
      keyId,
      client,
      // The region goes to a created client only; an injected client has its own.
      region: client === undefined ? (region ?? arn?.region) : undefined,
      endpoint: options.endpoint,
      profile: options.profile,
      maxAttempts: options.maxAttempts,
      retryMode,
      insecureTestCredentials: options.insecureTestCredentials,
      clientConfig: options.clientConfig as KMSClientConfig | undefined,
      grantTokens: options.grantTokens,
      encryptionAlgorithm: (params.get("algorithm") ?? undefined) as AwsKmsEncryptionAlgorithm | undefined,
      mrkAware: mrk === null ? options.mrkAware : mrk === "true",
    });
  },
  uriFor: (keyId: string) => `aws-kms://${keyId}`,
});
