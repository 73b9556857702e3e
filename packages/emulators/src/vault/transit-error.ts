/**
 * A Vault error answer: an HTTP status and Vault's `{"errors":[...]}` body.
 * Transit reports bad input (an unknown key, a damaged ciphertext, a version
 * below `min_decryption_version`) as 400 with the reason as text.
 */
export class VaultHttpError extends Error {
  constructor(
    readonly status: number,
    /** Undefined for Vault's empty `{"errors":[]}` (a read of nothing). */
    message: string | undefined,
  ) {
    super(message ?? "");
  }

  body(): { errors: string[] } {
    return { errors: this.message === "" ? [] : [this.message] };
  }
}

export const badRequest = (message: string) => new VaultHttpError(400, message);

/** What Vault answers for any ACL refusal, missing, unknown or expired token included. */
export const permissionDenied = () => new VaultHttpError(403, "1 error occurred:\n\t* permission denied\n\n");

/** keysutil's text for a ciphertext older than `min_decryption_version`. */
export const ERR_TOO_OLD = "ciphertext or signature version is disallowed by policy (too old)";
