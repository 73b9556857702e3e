import { type ErrorCode, type KmsErrorTable, parseRetryAfter } from "@kms-envelope/core";

/** Operations as the error table sees them: a key read, a wrap, an unwrap. */
export type KeyVaultOperation = "GetKey" | "WrapKey" | "UnwrapKey";

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

/** RestError status (and Key Vault's inner code) → core error code. */
function codeForStatus(status: number | undefined, inner: string | undefined, operation: string): ErrorCode {
  if (status === undefined) return "KMS_UNAVAILABLE"; // no answer at all: reset, refused, timed out
  if (status === 401) return "KEY_ACCESS_DENIED";
  if (status === 403) {
    return inner === "KeyDisabled" || inner === "KeyExpired" ? "KEY_DISABLED" : "KEY_ACCESS_DENIED";
  }
  if (status === 404) return "KEY_NOT_FOUND";
  // Key Vault says only "BadParameter" about a ciphertext it cannot open: wrong key or damaged bytes.
  if (status === 400) return operation === "UnwrapKey" ? "TAMPERED" : "INVALID_ARGUMENT";
  if (status === 429) return "KMS_THROTTLED";
  if (status >= 500) return "KMS_UNAVAILABLE";
  return "KMS_ERROR";
}

/**
 * MSAL's error code (`network_error`, `invalid_client`, …) on a credential
 * error or its causes, with Entra's AADSTS number when there is one: fixed
 * identifiers, never a secret, and what a person needs to tell "unreachable"
 * from "refused" (and to look the refusal up).
 */
function msalCodeOf(error: Error): string | undefined {
  let current: unknown = error;
  for (let depth = 0; current instanceof Error && depth < 4; depth++, current = current.cause) {
    // ClientAuthError carries `errorCode`; @azure/identity's AuthenticationError quotes it after "More details:".
    const { errorCode } = current as { errorCode?: unknown };
    const code =
      typeof errorCode === "string" && /^[a-z][a-z0-9_]*$/.test(errorCode)
        ? errorCode
        : /More details:\s*([a-z]+(?:_[a-z]+)+):/.exec(current.message)?.[1];
    if (code !== undefined) {
      const entra = /\b(AADSTS\d{5,8})\b/.exec(current.message)?.[1];
      return entra === undefined ? code : `${code} ${entra}`;
    }
  }
  return undefined;
}

/**
 * The error table: a RestError by HTTP status and inner code; the plain
 * Errors the SDK throws after checking a key's own attributes before any
 * call; and @azure/identity's credential failures.
 */
export const keyVaultErrors: KmsErrorTable = (error, operation) => {
  if (isRestError(error)) {
    const detail = [error.statusCode, error.code, innerCode(error)]
      .filter((part) => part !== undefined)
      .join(" ");
    return {
      code: codeForStatus(error.statusCode, innerCode(error), operation),
      detail: detail || error.message,
      ...retryAfterOf(error),
    };
  }
  if (!(error instanceof Error)) return undefined;
  if (/expired at|can't be used before/.test(error.message)) {
    return { code: "KEY_DISABLED", detail: "the key is outside its validity period" };
  }
  if (/is not supported on key/.test(error.message)) {
    return { code: "KEY_ACCESS_DENIED", detail: "the key does not permit this operation" };
  }
  if (error.name === "CredentialUnavailableError" || error.name === "AuthenticationError") {
    const msal = msalCodeOf(error);
    const detail = `no Azure credential could get a token (${error.name}${msal === undefined ? "" : `: ${msal}`})`;
    // A token endpoint that did not answer (refused, reset, timed out) is an outage, not a refusal.
    return { code: msal === "network_error" ? "KMS_UNAVAILABLE" : "KEY_ACCESS_DENIED", detail };
  }
  return undefined;
};
