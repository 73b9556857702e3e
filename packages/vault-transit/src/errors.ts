import { httpStatusFailure, type KmsErrorTable, type KmsFailure } from "@kms-envelope/core";
import { isCertificateError, VaultResponseError } from "./vault-http.js";

/** keysutil's refusal of a ciphertext older than the key's `min_decryption_version`. */
const TOO_OLD = "disallowed by policy (too old)";

/** Texts transit answers (400) for a ciphertext it cannot open: damaged, foreign, or the wrong binding. */
const UNOPENABLE = [
  "message authentication failed",
  "invalid ciphertext",
  "could not decode base64",
  "crypto/rsa: decryption error",
];

const READS = new Set(["Decrypt", "Rewrap"]);

/** What a bare status means at Vault, for the message. */
const STATUS_TEXT: Readonly<Record<number, string>> = {
  401: "401 permission denied",
  403: "403 permission denied",
  404: "404 no such mount or path",
  429: "429 rate limit",
};

function classify400(text: string, operation: string): KmsFailure {
  if (text.includes("encryption key not found"))
    return { code: "KEY_NOT_FOUND", detail: "encryption key not found" };
  if (text.includes(TOO_OLD)) {
    return { code: "KEY_DISABLED", detail: "key version retired by min_decryption_version" };
  }
  if (text.includes("version is too new")) {
    // The envelope names a version this key never had: the key was recreated or restored from an older backup.
    return { code: "KEY_NOT_FOUND", detail: "key version not found (version is too new)" };
  }
  if (text.includes("missing 'context' for key derivation")) {
    return { code: "INVALID_ARGUMENT", detail: "the key is derived: configure derived: true" };
  }
  if (text.includes("provided for non-AEAD cipher suite")) {
    return { code: "INVALID_ARGUMENT", detail: "the key is not AEAD: configure its keyType (rsa-…)" };
  }
  if (text.includes("invalid role or secret ID") || text.includes("invalid role name")) {
    return { code: "KEY_ACCESS_DENIED", detail: "login refused" };
  }
  if (READS.has(operation) && UNOPENABLE.some((part) => text.includes(part))) {
    return { code: "TAMPERED", detail: "Vault could not open the wrapped key" };
  }
  return { code: "KMS_ERROR", detail: "400" };
}

/**
 * Vault's answers → core codes. The error kept as `cause` is the
 * VaultResponseError: status plus Vault's own error texts, never the request.
 * A request that got no answer (refused, reset, timed out) the kit places.
 */
export const vaultTransitErrors: KmsErrorTable = (error, operation) => {
  if (error instanceof VaultResponseError) {
    const { status } = error;
    if (status === 400) return classify400(error.errors.join("; "), operation);
    if (status === 503 && error.errors.includes("Vault is sealed"))
      return { code: "KMS_UNAVAILABLE", detail: "503 sealed" };
    // 412: a performance standby has not caught up yet.
    if (status === 412) return { code: "KMS_UNAVAILABLE", detail: "412" };
    // Core's retries (keyring `kms.retry`) wait at least a 429's Retry-After.
    const retryAfter = error.retryAfter === undefined ? undefined : String(error.retryAfter);
    const detail = STATUS_TEXT[status] ?? String(status);
    return httpStatusFailure(status, detail, retryAfter) ?? { code: "KMS_ERROR", detail };
  }
  if (isCertificateError(error)) {
    return { code: "KMS_UNAVAILABLE", retryable: false, detail: "TLS certificate not trusted (set caFile)" };
  }
  return undefined;
};
