import { EnvelopeError, type ErrorCode } from "@kms-envelope/core";

/**
 * AWS error names (the SDK sets `name` to the service's `__type`) onto core
 * codes. Names the SDK models for KMS, plus the service-wide ones every AWS
 * JSON service can return (auth, throttling) and the SDK's own.
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
  // The ciphertext was made by another key than the one pinned with KeyId.
  IncorrectKeyException: "KEY_ID_MISMATCH",
  // A configuration error: e.g. a signing key, or an RSA key used as symmetric.
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

/** Node and undici error codes for a connection that failed or was cut. */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENETDOWN",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
]);

interface AwsLikeError {
  name?: unknown;
  code?: unknown;
  $metadata?: { httpStatusCode?: unknown };
}

export function awsErrorCode(error: unknown, signal: AbortSignal | undefined): ErrorCode {
  if (signal?.aborted) return "ABORTED";
  const value = (typeof error === "object" && error !== null ? error : {}) as AwsLikeError;
  const name = typeof value.name === "string" ? value.name : "";
  if (name === "AbortError") return "ABORTED";
  const mapped = Object.hasOwn(AWS_ERROR_CODES, name) ? AWS_ERROR_CODES[name] : undefined;
  if (mapped !== undefined) return mapped;
  if (typeof value.code === "string" && NETWORK_ERROR_CODES.has(value.code)) return "KMS_UNAVAILABLE";
  const status = value.$metadata?.httpStatusCode;
  if (typeof status === "number") {
    if (status === 429) return "KMS_THROTTLED";
    if (status >= 500) return "KMS_UNAVAILABLE";
  }
  return "KMS_ERROR";
}

/**
 * The typed error for a failed KMS call. The message names the operation,
 * the key and the AWS error type, never key material (KMS echoes no
 * plaintext; the SDK error is kept whole as `cause`).
 */
export function awsKmsError(
  error: unknown,
  operation: string,
  keyId: string,
  signal: AbortSignal | undefined,
): EnvelopeError {
  if (error instanceof EnvelopeError) return error;
  const code = awsErrorCode(error, signal);
  if (code === "ABORTED")
    return new EnvelopeError("ABORTED", `AWS KMS ${operation} was aborted`, { cause: error });
  const name = error instanceof Error ? error.name : typeof error;
  return new EnvelopeError(code, `AWS KMS ${operation} with ${keyId} failed: ${name}`, { cause: error });
}
