import {
  EnvelopeError,
  type KeyUriProvider,
  type OptionSpecFor,
  readOpenOptions,
  readUriParameters,
  type UriParameterSpec,
} from "@kms-envelope/core";
import { parseKmsArn } from "./arn.js";
import { AWS_KMS_PROVIDER, type AwsKmsKekOptions, createAwsKmsKek } from "./aws-kms-kek.js";

const PARAMETERS = {
  region: "string",
  algorithm: ["SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256"],
  mrk: "boolean",
} as const satisfies UriParameterSpec;

/** The registry's `aws-kms` options: the factory's, but the key and its algorithm come from the URI. */
type AwsKmsUriOptions = Omit<AwsKmsKekOptions, "keyId" | "encryptionAlgorithm">;

/** Data a config file can carry, then code-only objects. */
const OPTIONS: OptionSpecFor<AwsKmsUriOptions> = {
  region: "string",
  endpoint: "string",
  profile: "string",
  maxAttempts: "number",
  retryMode: ["standard", "adaptive"],
  insecureTestCredentials: "boolean",
  grantTokens: "string[]",
  mrkAware: "boolean",
  client: "object",
  clientConfig: "object",
};

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
    const options = readOpenOptions<AwsKmsUriOptions>("aws-kms", given, OPTIONS);
    const params = readUriParameters("aws-kms", query ?? "", PARAMETERS);
    const arn = parseKmsArn(keyId);
    if (keyId.startsWith("arn:") && arn === undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"${keyId}" is not a KMS key or alias ARN`);
    }
    const region = params.region ?? options.region;
    if (arn !== undefined && region !== undefined && region !== arn.region) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `region ${region} contradicts the ARN's region ${arn.region}`,
      );
    }
    const envRegion = process.env.AWS_REGION ?? process.env.AWS_DEFAULT_REGION;
    if (
      arn === undefined &&
      region === undefined &&
      options.client === undefined &&
      envRegion === undefined
    ) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `"aws-kms://${keyId}" needs ?region=… (or use the key ARN)`,
      );
    }
    return createAwsKmsKek({
      ...options,
      keyId,
      // The region goes to a created client only; an injected client has its own.
      region: options.client === undefined ? (region ?? arn?.region) : undefined,
      encryptionAlgorithm: params.algorithm,
      mrkAware: params.mrk ?? options.mrkAware,
    });
  },
  uriFor: (keyId: string) => `aws-kms://${keyId}`,
});
