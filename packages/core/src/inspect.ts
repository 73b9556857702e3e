import { EnvelopeError } from "./errors.js";
import { dearmor, isArmored, armor as toArmor } from "./format/armor.js";
import { SUITE_AES256_GCM_HKDF_SHA512_COMMIT } from "./format/constants.js";
import type { EncryptionContext } from "./format/context.js";
import { decodeHeader, type EnvelopeHeader } from "./format/header.js";
import { type Limits, resolveLimits } from "./limits.js";
import { optionalLimits, optionalObject, requireEnvelope } from "./validate.js";

const SUITE_NAMES: Record<number, string> = {
  [SUITE_AES256_GCM_HKDF_SHA512_COMMIT]: "AES-256-GCM, HKDF-SHA512, key commitment",
};

/** What an envelope says about itself, readable without any KMS call. */
export interface EnvelopeInfo {
  readonly version: number;
  readonly suite: number;
  readonly suiteName: string;
  /** Hex. */
  readonly messageId: string;
  readonly context: EncryptionContext;
  readonly frameLength: number;
  readonly wrappedKeys: readonly {
    readonly provider: string;
    readonly keyId: string;
    readonly wrappedLength: number;
  }[];
  readonly headerLength: number;
}

export function describeHeader(header: EnvelopeHeader): EnvelopeInfo {
  return Object.freeze({
    version: header.version,
    suite: header.suite,
    suiteName: SUITE_NAMES[header.suite] ?? "unknown",
    messageId: Buffer.from(
      header.messageId.buffer,
      header.messageId.byteOffset,
      header.messageId.length,
    ).toString("hex"),
    context: header.context,
    frameLength: header.frameLength,
    wrappedKeys: header.wrappedKeys.map((entry) => ({
      provider: entry.provider,
      keyId: entry.keyId,
      wrappedLength: entry.wrapped.length,
    })),
    headerLength: header.length,
  });
}

/** Accepts binary or armored input and returns the binary envelope. */
export function toEnvelopeBytes(envelope: Uint8Array | string): Uint8Array {
  if (typeof envelope === "string") return dearmor(envelope);
  if (!(envelope instanceof Uint8Array)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "an envelope is a Uint8Array or an armored string");
  }
  return isArmored(envelope) ? dearmor(envelope) : envelope;
}

/** Reads the header (version, suite, context, wrapped keys, frame length); makes no KMS call. */
export function inspect(
  envelope: Uint8Array | string,
  options: { limits?: Partial<Limits> | undefined } = {},
): EnvelopeInfo {
  requireEnvelope(envelope, "inspect");
  optionalLimits(optionalObject(options, "inspect").limits, "inspect");
  return describeHeader(decodeHeader(toEnvelopeBytes(envelope), resolveLimits(options.limits)));
}

export { dearmor, toArmor as armor };
