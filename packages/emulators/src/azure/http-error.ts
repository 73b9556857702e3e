/** A Key Vault error answer: status plus the service's `{ error: { code, message, innererror } }` body. */
export class KeyVaultHttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly innerCode?: string,
  ) {
    super(message);
  }

  static badParameter(message: string): KeyVaultHttpError {
    return new KeyVaultHttpError(400, "BadParameter", message);
  }

  body(): { error: Record<string, unknown> } {
    return {
      error: {
        code: this.code,
        message: this.message,
        ...(this.innerCode === undefined ? {} : { innererror: { code: this.innerCode } }),
      },
    };
  }
}
