import { EnvelopeError } from "../errors.js";

/**
 * The armored (text) form: `kmse1:` followed by the envelope bytes in
 * unpadded base64url, on one line, so it fits an env var or a config value.
 * Decoders ignore ASCII whitespace (so long values may be wrapped) and reject
 * any other character outside the base64url alphabet.
 */
export const ARMOR_PREFIX = "kmse1:";
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export function armor(envelope: Uint8Array): string {
  return (
    ARMOR_PREFIX +
    Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength).toString("base64url")
  );
}

export function isArmored(input: string | Uint8Array): boolean {
  if (typeof input === "string") return input.trimStart().startsWith(ARMOR_PREFIX);
  // "kmse1:" never starts a binary envelope, whose first bytes are "KMSE".
  if (input[0] === 0x4b && input[1] === 0x4d && input[2] === 0x53 && input[3] === 0x45) return false;
  const start = input.subarray(0, 64);
  return Buffer.from(start.buffer, start.byteOffset, start.byteLength)
    .toString("latin1")
    .trimStart()
    .startsWith(ARMOR_PREFIX);
}

export function dearmor(text: string | Uint8Array): Uint8Array<ArrayBuffer> {
  const value =
    typeof text === "string"
      ? text
      : Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString("latin1");
  const compact = value.replace(/[\t\n\r ]/g, "");
  if (!compact.startsWith(ARMOR_PREFIX)) {
    throw new EnvelopeError("MALFORMED", `armor: armored envelopes start with "${ARMOR_PREFIX}"`);
  }
  const body = compact.slice(ARMOR_PREFIX.length);
  if (!BASE64URL.test(body) || body.length % 4 === 1) {
    throw new EnvelopeError("MALFORMED", "armor: not valid unpadded base64url");
  }
  const decoded = Buffer.from(body, "base64url");
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength) as Uint8Array<ArrayBuffer>;
}
