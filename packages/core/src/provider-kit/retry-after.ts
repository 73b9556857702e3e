import { EnvelopeError } from "../errors.js";

/**
 * An HTTP `Retry-After` header (RFC 9110 §10.2.3) in milliseconds: either
 * delay-seconds or an HTTP-date. Undefined for anything else, so a garbled
 * header falls back to core's own backoff rather than to a guess.
 */
export function parseRetryAfter(
  value: string | null | undefined,
  now: number = Date.now(),
): number | undefined {
  if (typeof now !== "number" || !Number.isFinite(now)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "parseRetryAfter: now must be a finite number of ms");
  }
  if (typeof value !== "string") return undefined;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at) || !/[a-z]/i.test(text)) return undefined;
  return Math.max(0, at - now);
}
