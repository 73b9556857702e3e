import type { ErrorCode } from "../errors.js";
import { requireString } from "../validate.js";
import { parseRetryAfter } from "./retry-after.js";

/** What one SDK error means, as a provider's error table says. */
export interface KmsFailure {
  readonly code: ErrorCode;
  /** Overrides the code's default (`KMS_THROTTLED` and `KMS_UNAVAILABLE` are retryable). */
  readonly retryable?: boolean | undefined;
  /** What the service said, for the message: an error type or status. Never request data. */
  readonly detail?: string | undefined;
  /** The service's Retry-After, in ms, when it sent one (core's retries wait that long). */
  readonly retryAfterMs?: number | undefined;
}

/**
 * A provider's error table: what an SDK error means for `operation`.
 * `undefined` (nothing known) becomes `ABORTED` for an abort,
 * `KMS_UNAVAILABLE` for a network error (see networkErrorCode), else
 * `KMS_ERROR`.
 */
export type KmsErrorTable = (error: unknown, operation: string) => KmsFailure | undefined;

/**
 * Node and undici error codes for a connection that could not be made or
 * was cut: the service never answered, so the call may be tried again.
 */
const NETWORK_ERROR_CODES: ReadonlySet<string> = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ENOTFOUND",
  "EAI_AGAIN",
  "EHOSTUNREACH",
  "EHOSTDOWN",
  "ENETUNREACH",
  "ENETDOWN",
  "EPROTO",
  "UND_ERR_SOCKET",
  "UND_ERR_CLOSED",
  "UND_ERR_CONNECT_TIMEOUT",
  "UND_ERR_HEADERS_TIMEOUT",
  "UND_ERR_BODY_TIMEOUT",
]);

/**
 * The network error code (`ECONNREFUSED`, `UND_ERR_SOCKET`, …) on `error` or
 * on one of its first causes (fetch wraps the socket's error in a
 * TypeError), else undefined. `kmsError` applies it to every error a
 * provider's table leaves unplaced, so tables need not list these codes.
 */
export function networkErrorCode(error: unknown): string | undefined {
  let current = error;
  for (let depth = 0; depth < 4 && typeof current === "object" && current !== null; depth++) {
    const { code, cause } = current as { code?: unknown; cause?: unknown };
    if (typeof code === "string" && NETWORK_ERROR_CODES.has(code)) return code;
    current = cause;
  }
  return undefined;
}

/**
 * What an HTTP status means when the service said nothing more precise:
 * 401 and 403 `KEY_ACCESS_DENIED`, 404 `KEY_NOT_FOUND`, 429 `KMS_THROTTLED`
 and 5xx `KMS_UNAVAILABLE`, both waiting at least what a `retryAfter` header
 * asks (RFC 9110 sends it with 429 and 503);
 * undefined for any other status, which a table then places itself or
 * leaves as `KMS_ERROR`. `detail` names what the service said.
 */
export function httpStatusFailure(
  status: unknown,
  detail: string,
  retryAfter?: string | null | undefined,
): KmsFailure | undefined {
  requireString(detail, "httpStatusFailure", "detail");
  if (typeof status !== "number") return undefined;
  if (status === 401 || status === 403) return { code: "KEY_ACCESS_DENIED", detail };
  if (status === 404) return { code: "KEY_NOT_FOUND", detail };
  const code =
    status === 429 ? "KMS_THROTTLED" : status >= 500 && status <= 599 ? "KMS_UNAVAILABLE" : undefined;
  if (code === undefined) return undefined;
  const retryAfterMs = parseRetryAfter(retryAfter);
  return { code, detail, ...(retryAfterMs === undefined ? {} : { retryAfterMs }) };
}
