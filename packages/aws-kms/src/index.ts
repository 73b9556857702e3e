export { isSameMultiRegionKey, type KmsArn, parseKmsArn } from "./arn.js";
export {
  AWS_INSECURE_TEST_CREDENTIALS,
  AWS_KMS_PROVIDER,
  type AwsKmsEncryptionAlgorithm,
  type AwsKmsKekOptions,
  createAwsKmsKek,
} from "./aws-kms-kek.js";
export { AWS_ERROR_CODES, awsKmsErrors } from "./errors.js";
export { awsKmsUriProvider } from "./uri.js";
