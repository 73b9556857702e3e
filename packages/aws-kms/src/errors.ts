import { type ErrorCode, httpStatusFailure, type KmsErrorTable } from "@kms-envelope/core";

/**
 * AWS error names (the SDK sets `name` to the service's `__type`) onto core
 * codes: the names the SDK models for KMS (checked against the KMS API
 * reference's Errors sections), the service-wide ones every AWS JSON service
 * can return (auth, throttling), and the SDK's own.
 */
export const AWS_ERROR_CODES: Readonly<Record<string, ErrorCode>> = Object.freeze({
  // The caller may not use the key: IAM or key policy, bad or expired credentials, bad grant token.
  AccessDeniedException: "KEY_ACCESS_DENIED",
  UnrecognizedClientException: "KEY_ACCESS_DENIED",
  InvalidSignatureException: "KEY_ACCESS_DENIED",
  IncompleteSignatureException: "KEY_ACCESS_DENIED",
  MissingAuthenticationTokenException: "KEY_ACCESS_DENIED",
  ExpiredTokenException: "KEY_ACCESS_DENIED",
  InvalidGrantTokenException: "KEY_ACCESS_DENIED",
  CredentialsProviderError: "KEY_ACCESS_DENIED",
  // The key (or alias) does not exist in this account and region.
  NotFoundException: "KEY_NOT_FOUND",
  // Disabled, pending deletion, pending import, or a replica being deleted.
  DisabledException: "KEY_DISABLED",
  KMSInvalidStateException: "KEY_DISABLED",
  // KMS never says which: wrong encryption context, or ciphertext not made by this key or altered.
  InvalidCiphertextException: "TAMPERED",
  // "The KeyId in a Decrypt request and the SourceKeyId in a ReEncrypt request must identify
  // the same KMS key that was used to encrypt the ciphertext": another key made this entry.
  IncorrectKeyException: "KEY_ID_MISMATCH",
  // A configuration error that no retry fixes: the key's KeyUsage or KeySpec does not allow
  // the operation or algorithm (a signing key, an RSA key used as symmetric).
  InvalidKeyUsageException: "INVALID_ARGUMENT",
  UnsupportedOperationException: "INVALID_ARGUMENT",
  ValidationException: "INVALID_ARGUMENT",
  InvalidArnException: "INVALID_ARGUMENT",
  // Request quotas: the SDK has retried already (see `maxAttempts`).
  ThrottlingException: "KMS_THROTTLED",
  ThrottledException: "KMS_THROTTLED",
  TooManyRequestsException: "KMS_THROTTLED",
  RequestLimitExceeded: "KMS_THROTTLED",
  LimitExceededException: "KMS_THROTTLED",
  // The service, its HSMs or a custom key store cannot answer now.
  KMSInternalException: "KMS_UNAVAILABLE",
  DependencyTimeoutException: "KMS_UNAVAILABLE",
  KeyUnavailableException: "KMS_UNAVAILABLE",
  ServiceUnavailableException: "KMS_UNAVAILABLE",
  InternalFailure: "KMS_UNAVAILABLE",
  RequestTimeout: "KMS_UNAVAILABLE",
  RequestTimeoutException: "KMS_UNAVAILABLE",
  // The SDK's own request timeout (`requestHandler.requestTimeout`).
  TimeoutError: "KMS_UNAVAILABLE",
});

interface AwsLikeError {
  name?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

/**
 * The error table: by AWS error name, then by HTTP status (the kit's common
 * meanings). A network failure (no answer) the kit places itself.
 */
export const awsKmsErrors: KmsErrorTable = (error) => {
  const value = (typeof error === "object" && error !== null ? error : {}) as AwsLikeError;
  const name = typeof value.name === "string" ? value.name : "";
  const mapped = Object.hasOwn(AWS_ERROR_CODES, name) ? AWS_ERROR_CODES[name] : undefined;
  if (mapped !== undefined) return { code: mapped, detail: name };
  const status = value.$metadata?.httpStatusCode;
  return httpStatusFailure(status, `${name} (HTTP ${String(status)})`);
};
