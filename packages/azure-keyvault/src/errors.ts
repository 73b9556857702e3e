import { httpStatusFailure, type KmsErrorTable, type KmsFailure } from "@kms-envelope/core";

interface RestErrorLike extends Error {
  readonly statusCode?: number | undefined;
  readonly code?: string | undefined;
  readonly details?: { error?: { innerError?: { code?: unknown } } } | undefined;
  readonly response?: { readonly headers?: { get?(name: string): string | undefined } } | undefined;
}

/** `RestError` by name: @azure/core-rest-pipeline is the SDK's dependency, not ours, and may exist twice. */
function isRestError(value: unknown): value is RestErrorLike {
  return value instanceof Error && value.name === "RestError";
}

/** A RestError by its HTTP status, refined by the inner code Key Vault puts under `error.innererror.code`. */
function restFailure(error: RestErrorLike, operation: string): KmsFailure {
  const inner = error.details?.error?.innerError?.code;
  const innerCode = typeof inner === "string" ? inner : undefined; // KeyDisabled, ForbiddenByPolicy, …
  const status = error.statusCode;
  const detail =
    [status, error.code, innerCode].filter((part) => part !== undefined).join(" ") || error.message;
  // No status: no answer at all (reset, refused, timed out).
  if (status === undefined) return { code: "KMS_UNAVAILABLE", detail };
  if (status === 403 && (innerCode === "KeyDisabled" || innerCode === "KeyExpired")) {
    return { code: "KEY_DISABLED", detail };
  }
  // Key Vault says only "BadParameter" about a ciphertext it cannot open: wrong key or damaged bytes.
  if (status === 400) return { code: operation === "UnwrapKey" ? "TAMPERED" : "INVALID_ARGUMENT", detail };
  // Key Vault's Retry-After (sent with 429 and some 503s) counts once the SDK's own retries are spent.
  const retryAfter = error.response?.headers?.get?.("retry-after");
  return httpStatusFailure(status, detail, retryAfter) ?? { code: "KMS_ERROR", detail };
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
export const azureKeyVaultErrors: KmsErrorTable = (error, operation) => {
  if (isRestError(error)) return restFailure(error, operation);
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
