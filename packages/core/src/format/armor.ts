import { EnvelopeError } from "../errors.js";

/**
 * The armored (text) form (docs/format.md, "Armored form"): optional
 * whitespace, then exactly `kmse1:`, then the envelope bytes in unpadded
 * base64url, with whitespace allowed anywhere after the prefix (folded
 * values). Whitespace is SP, HT, LF and CR, nothing else. Exactly one text
 * decodes to a given envelope once whitespace is removed: no padding, and
 * the unused low bits of the last character must be zero.
 */
export const ARMOR_PREFIX = "kmse1:";
/** What every armored form starts with (after whitespace), whatever its version. */
const ARMOR_FAMILY = "kmse";
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const WHITESPACE = /[\t\n\r ]/g;
const LEADING_WHITESPACE = /^[\t\n\r ]*/;

export function armor(envelope: Uint8Array): string {
  if (!(envelope instanceof Uint8Array)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "armor: an envelope is a Uint8Array");
  }
  return (
    ARMOR_PREFIX +
    Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength).toString("base64url")
  );
}

function isWhitespaceByte(byte: number): boolean {
  return byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/**
 * How a decoder tells the two forms apart: input that, after leading
 * whitespace, starts with lowercase `kmse` is armored (and must then be
 * exactly `kmse1:` …); anything else is binary (and must start with the
 * magic `KMSE`). So `kmse2:…` is refused by the armor check in every entry
 * point, whether it arrives as a string or as bytes.
 */
export function isArmored(input: string | Uint8Array): boolean {
  if (typeof input === "string") return true;
  if (!(input instanceof Uint8Array)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "isArmored: input is a string or a Uint8Array");
  }
  let at = 0;
  while (at < input.length && isWhitespaceByte(input[at]!)) at++;
  for (let i = 0; i < ARMOR_FAMILY.length; i++) {
    if (input[at + i] !== ARMOR_FAMILY.charCodeAt(i)) return false;
  }
  return true;
}

/** Values of the base64url alphabet, for the canonical last-character check. */
function base64urlValue(code: number): number {
  if (code >= 0x41 && code <= 0x5a) return code - 0x41;
  if (code >= 0x61 && code <= 0x7a) return code - 0x61 + 26;
  if (code >= 0x30 && code <= 0x39) return code - 0x30 + 52;
  return code === 0x2d ? 62 : 63;
}

function refuse(detail: string): never {
  throw new EnvelopeError("MALFORMED", `armor: ${detail}`);
}

export function dearmor(text: string | Uint8Array): Uint8Array<ArrayBuffer> {
  let value: string;
  if (typeof text === "string") value = text;
  else if (text instanceof Uint8Array) {
    value = Buffer.from(text.buffer, text.byteOffset, text.byteLength).toString("latin1");
  } else {
    throw new EnvelopeError("INVALID_ARGUMENT", "dearmor: armored text is a string or a Uint8Array");
  }
  const start = LEADING_WHITESPACE.exec(value)![0].length;
  if (!value.startsWith(ARMOR_PREFIX, start)) {
    refuse(`armored envelopes start with "${ARMOR_PREFIX}" (no whitespace inside it)`);
  }
  const body = value.slice(start + ARMOR_PREFIX.length).replace(WHITESPACE, "");
  if (!BASE64URL.test(body)) refuse("a character outside unpadded base64url");
  const tail = body.length % 4;
  if (tail === 1) refuse("the base64url text has an impossible length");
  if (tail !== 0) {
    // 2 characters carry 1 byte (4 unused bits), 3 carry 2 bytes (2 unused bits).
    const unusedBits = tail === 2 ? 0x0f : 0x03;
    if ((base64urlValue(body.charCodeAt(body.length - 1)) & unusedBits) !== 0) {
      refuse("non-canonical base64url (unused bits of the last character are not zero)");
    }
  }
  const decoded = Buffer.from(body, "base64url");
  return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength) as Uint8Array<ArrayBuffer>;
}
