import { EnvelopeError, type ErrorCode, isEnvelopeError, parseRetryAfter } from "@kms-envelope/core";

export type KeyVaultOperation = "get" | "wrap" | "unwrap";

interface RestErrorLike extends Error {
  readonly statusCode?: number | undefined;
  readonly code?: string | undefined;
  readonly details?: unknown;
  readonly response?: { readonly headers?: { get?(name: string): string | undefined } } | undefined;
}

/** Key Vault's Retry-After (sent with 429 and some 503s), once the SDK's own retries are spent. */
function retryAfterOf(error: RestErrorLike): { retryAfterMs?: number } {
  const header = error.response?.headers?.get?.("retry-after");
  const retryAfterMs = parseRetryAfter(header);
  return retryAfterMs === undefined ? {} : { retryAfterMs };
}

/** `RestError` by name: @azure/core-rest-pipeline is the SDK's dependency, not ours, and may exist twice. */
function isRestError(value: unknown): value is RestErrorLike {
  return value instanceof Error && value.name === "RestError";
}

/** The inner error code Key Vault puts under `error.innererror.code` (KeyDisabled, ForbiddenByPolicy, …). */
function innerCode(error: RestErrorLike): string | undefined {
  const details = error.details as { error?: { innerError?: { code?: unknown } } } | undefined;
  const code = details?.error?.innerError?.code;
  return typeof code === "string" ? code : undefined;
}

/**
 * The `RestError` keeps the request (whose body holds the DEK on wrap) and
 * the response as hidden properties; the cause we keep is a copy of what a
 * caller needs to act on, and nothing else.
 */
function sanitize(error: RestErrorLike): Error {
  const copy = new Error(error.message);
  copy.name = "RestError";
  return Object.assign(copy, { code: error.code, statusCode: error.statusCode, details: error.details });
}

/** RestError status (and Key Vault's inner code) → core error code. */
function codeForStatus(
  status: number | undefined,
  inner: string | undefined,
  operation: KeyVaultOperation,
): ErrorCode {
  if (status === undefined) return "KMS_UNAVAILABLE"; // no answer at all: reset, refused, timed out
  if (status === 401) return "KEY_ACCESS_DENIED";
  if (status === 403) {
    return inner === "KeyDisabled" || inner === "KeyExpired" ? "KEY_DISABLED" : "KEY_ACCESS_DENIED";
  }
  if (status === 404) return "KEY_NOT_FOUND";
  // Key Vault says only "BadParameter" about a ciphertext it cannot open: wrong key or damaged bytes.
  if (status === 400) return operation === "unwrap" ? "TAMPERED" : "INVALID_ARGUMENT";
  if (status === 429) return "KMS_THROTTLED";
  if (status >= 500) return "KMS_UNAVAILABLE";
  return "KMS_ERROR";
}

const VERB: Record<KeyVaultOperation, string> = { get: "read", wrap: "wrap with", unwrap: "unwrap with" };

/** Turns whatever the SDK threw into an `EnvelopeError` naming the key (never the DEK). */
export function toKeyVaultError(error: unknown, operation: KeyVaultOperation, keyId: string): EnvelopeError {
  if (isEnvelopeError(error)) return error;
  if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
    return new EnvelopeError("ABORTED", `Key Vault ${operation} of ${keyId} was aborted`, { cause: error });
  }
  if (isRestError(error)) {
    const code = codeForStatus(error.statusCode, innerCode(error), operation);
    const what = [error.statusCode, error.code, innerCode(error)]
      .filter((part) => part !== undefined)
      .join(" ");
    return new EnvelopeError(
      code,
      `Key Vault could not ${VERB[operation]} ${keyId}: ${what || error.message}`,
      { cause: sanitize(error), ...retryAfterOf(error) },
    );
  }
  if (error instanceof Error) {
    // The SDK checks the key's own attributes before calling the service and throws plain Errors.
    if (/expired at|can't be used before/.test(error.message)) {
      return new EnvelopeError("KEY_DISABLED", `Key Vault key ${keyId} is outside its validity period`, {
        cause: error,
      });
    }
    if (/is not supported on key/.test(error.message)) {
      return new EnvelopeError("KEY_ACCESS_DENIED", `Key Vault key ${keyId} does not permit this operation`, {
        cause: error,
      });
    }
    if (error.name === "CredentialUnavailableError" || error.name === "AuthenticationError") {
      return new EnvelopeError("KEY_ACCESS_DENIED", `no Azure credential could get a token for ${keyId}`, {
        cause: error,
      });
    }
  }
  return new EnvelopeError("KMS_ERROR", `Key Vault could not ${VERB[operation]} ${keyId}`, { cause: error });
}
