/**
 * An error the emulator answers with, in the KMS JSON 1.1 error shape:
 * HTTP status, `x-amzn-ErrorType` header and `{"__type", "message"}` body,
 * which is what the SDK's protocol layer turns into its typed exceptions.
 */
export class KmsError extends Error {
  readonly type: string;
  readonly status: number;

  constructor(type: string, message: string, status = 400) {
    super(message);
    this.type = type;
    this.status = status;
  }
}

/** The KMS error types the emulator produces, with the status AWS answers them with. */
export const KMS_ERROR_STATUS: Readonly<Record<string, number>> = Object.freeze({
  AccessDeniedException: 400,
  DependencyTimeoutException: 503,
  DisabledException: 400,
  IncorrectKeyException: 400,
  InvalidAliasNameException: 400,
  InvalidArnException: 400,
  InvalidCiphertextException: 400,
  InvalidGrantTokenException: 400,
  InvalidKeyUsageException: 400,
  IncompleteSignatureException: 400,
  InvalidSignatureException: 400,
  KeyUnavailableException: 500,
  KMSInternalException: 500,
  KMSInvalidStateException: 400,
  LimitExceededException: 400,
  MissingAuthenticationTokenException: 400,
  NotFoundException: 400,
  ThrottlingException: 400,
  UnknownOperationException: 400,
  UnrecognizedClientException: 400,
  UnsupportedOperationException: 400,
  ValidationException: 400,
  AlreadyExistsException: 400,
  SerializationException: 400,
  ServiceUnavailableException: 503,
});

export function kmsError(type: string, message: string): KmsError {
  return new KmsError(type, message, KMS_ERROR_STATUS[type] ?? 400);
}
