import { EnvelopeError } from "./errors.js";
import { FORMAT_MAX_FRAME_LENGTH } from "./format/constants.js";

/**
 * Bounds applied on encrypt and on decrypt. Decrypt checks every count and
 * length read from an envelope against these before allocating anything of
 * that size, so a hostile header cannot make us allocate or loop.
 */
export interface Limits {
  /** Wrapped keys in one envelope (encrypt: keyring size; decrypt: header count). */
  readonly maxWrappedKeys: number;
  /** Bytes of one wrapped key. */
  readonly maxWrappedKeyBytes: number;
  /** Bytes of one key id. */
  readonly maxKeyIdBytes: number;
  /** Bytes of the encoded encryption context (count + pairs). */
  readonly maxContextBytes: number;
  readonly minFrameLength: number;
  readonly maxFrameLength: number;
  /** Plaintext bytes one envelope may carry on decrypt. */
  readonly maxPlaintextBytes: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxWrappedKeys: 16,
  maxWrappedKeyBytes: 4096,
  maxKeyIdBytes: 2048,
  maxContextBytes: 8192,
  minFrameLength: 1,
  maxFrameLength: 16 * 1024 * 1024,
  maxPlaintextBytes: 64 * 1024 ** 3,
});

export function resolveLimits(overrides: Partial<Limits> | undefined): Limits {
  if (overrides === undefined) return DEFAULT_LIMITS;
  const limits = { ...DEFAULT_LIMITS, ...overrides };
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) {
      throw new EnvelopeError("INVALID_ARGUMENT", `limit ${name} must be a non-negative safe integer`);
    }
  }
  if (limits.minFrameLength < 1 || limits.maxFrameLength > FORMAT_MAX_FRAME_LENGTH) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `frame-length limits must lie within 1..${FORMAT_MAX_FRAME_LENGTH}`,
    );
  }
  return Object.freeze(limits);
}
