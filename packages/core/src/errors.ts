/**
 * Every failure a caller must handle is an `EnvelopeError` with a stable `code`.
 * Messages name what failed and why, never key material, a DEK or plaintext;
 * `cause` holds the provider SDK's error (which carries no DEK either: we never
 * hand a DEK to anything that could echo it back).
 */
export const ERROR_CODES = [
  "KEY_ACCESS_DENIED",
  "KEY_NOT_FOUND",
  "KEY_DISABLED",
  "KEY_ID_MISMATCH",
  "KMS_THROTTLED",
  "KMS_UNAVAILABLE",
  "KMS_INTEGRITY",
  "KMS_ERROR",
  "NO_USABLE_KEY",
  "CONTEXT_MISMATCH",
  "TAMPERED",
  "MALFORMED",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_SUITE",
  "LIMIT_EXCEEDED",
  "INVALID_ARGUMENT",
  "ABORTED",
  "PROVIDER_NOT_INSTALLED",
  "KEYSTORE_ERROR",
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One failed attempt to unwrap, kept on a `NO_USABLE_KEY` error. */
export interface UnwrapFailure {
  readonly provider: string;
  readonly keyId: string;
  readonly error: EnvelopeError;
}

export interface EnvelopeErrorOptions {
  cause?: unknown;
  /** Each KEK's failure, for `NO_USABLE_KEY`. */
  failures?: readonly UnwrapFailure[];
  /** Whether the same call may succeed when retried later (throttling, outages). */
  retryable?: boolean;
  /** How long the service asked the caller to wait before retrying (HTTP Retry-After), in ms. */
  retryAfterMs?: number | undefined;
}

const RETRYABLE_BY_DEFAULT: ReadonlySet<ErrorCode> = new Set(["KMS_THROTTLED", "KMS_UNAVAILABLE"]);

/**
 * Marks every `EnvelopeError`. `Symbol.for` returns the same symbol in every
 * copy of core loaded in one process (npm nests a second copy when versions
 * drift), so an error made by a provider's copy is still recognised by the
 * application's copy, where `instanceof` would say no.
 */
const ENVELOPE_ERROR_BRAND: unique symbol = Symbol.for("kms-envelope.EnvelopeError");
const CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export class EnvelopeError extends Error {
  override readonly name = "EnvelopeError";
  /** The brand `isEnvelopeError` checks (see ENVELOPE_ERROR_BRAND). */
  readonly [ENVELOPE_ERROR_BRAND] = true;
  readonly code: ErrorCode;
  readonly failures: readonly UnwrapFailure[];
  readonly retryable: boolean;
  /** The service's Retry-After in ms, when it sent one; core's retries wait that long. */
  readonly retryAfterMs: number | undefined;

  constructor(code: ErrorCode, message: string, options: EnvelopeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.failures = options.failures ?? [];
    this.retryable = options.retryable ?? RETRYABLE_BY_DEFAULT.has(code);
    this.retryAfterMs = options.retryAfterMs;
  }
}

/**
 * Whether `value` is an `EnvelopeError` (from this or any other copy of core)
 * with a known code, and `code` when given. Checks the brand, never `instanceof`.
 */
export function isEnvelopeError(value: unknown, code?: ErrorCode): value is EnvelopeError {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as { [ENVELOPE_ERROR_BRAND]?: unknown; code?: unknown };
  return (
    candidate[ENVELOPE_ERROR_BRAND] === true &&
    typeof candidate.code === "string" &&
    CODES.has(candidate.code) &&
    (code === undefined || candidate.code === code)
  );
}

/** Turns anything thrown by a KEK into an `EnvelopeError`, keeping the original as `cause`. */
export function toEnvelopeError(value: unknown, fallback: ErrorCode, message: string): EnvelopeError {
  if (!ERROR_CODES.includes(fallback) || typeof message !== "string") {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "toEnvelopeError: fallback must be an ErrorCode, message a string",
    );
  }
  if (isEnvelopeError(value)) return value;
  if (isAbortError(value)) return new EnvelopeError("ABORTED", "the operation was aborted", { cause: value });
  return new EnvelopeError(fallback, message, { cause: value });
}

export function isAbortError(value: unknown): boolean {
  return value instanceof Error && (value.name === "AbortError" || value.name === "TimeoutError");
}

/** Throws `ABORTED` when the signal has fired; call before each slow step. */
export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal !== undefined && typeof (signal as { aborted?: unknown } | null)?.aborted !== "boolean") {
    throw new EnvelopeError("INVALID_ARGUMENT", "throwIfAborted: signal must be an AbortSignal");
  }
  if (signal?.aborted) {
    throw new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
  }
}
