import { EnvelopeError } from "./errors.js";
import { FORMAT_MAX_FRAME_LENGTH } from "./format/constants.js";
import { DEFAULT_LIMITS, type Limits } from "./format/limits.js";

export { DEFAULT_LIMITS, type Limits } from "./format/limits.js";

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
