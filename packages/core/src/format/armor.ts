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

function toText(input: string | Uint8Array, where: string): string {
  if (typeof input === "string") return input;
  if (input instanceof Uint8Array) {
    return Buffer.from(input.buffer, input.byteOffset, input.byteLength).toString("latin1");
  }
  throw new EnvelopeError("INVALID_ARGUMENT", `${where}: armored text is a string or a Uint8Array`);
}

const EMPTY = new Uint8Array(0) as Uint8Array<ArrayBuffer>;

/**
 * Decodes armored text piece by piece (a stream of any size in constant
 * memory) with exactly `dearmor`'s rules: `dearmor` is this decoder fed
 * once. `push` returns the bytes decoded so far (whole base64url groups);
 * `finish` takes an optional last piece, checks the end (length, canonical
 * last character) and returns the rest. Any violation throws `MALFORMED`
 * (check `armor`).
 */
export class ArmorDecoder {
  /** Text seen before the prefix is complete (leading whitespace skipped). */
  private head = "";
  private inBody = false;
  /** Base64url characters not yet decoded: fewer than 4 between calls. */
  private pending = "";
  private finished = false;

  push(chunk: string | Uint8Array): Uint8Array<ArrayBuffer> {
    return this.take(toText(chunk, "ArmorDecoder.push"), false);
  }

  finish(last: string | Uint8Array = EMPTY): Uint8Array<ArrayBuffer> {
    return this.take(toText(last, "ArmorDecoder.finish"), true);
  }

  private take(text: string, final: boolean): Uint8Array<ArrayBuffer> {
    if (this.finished) throw new EnvelopeError("INVALID_ARGUMENT", "ArmorDecoder: already finished");
    this.finished = final;
    let body = text;
    if (!this.inBody) {
      this.head = (this.head + text).replace(LEADING_WHITESPACE, "");
      const known = Math.min(this.head.length, ARMOR_PREFIX.length);
      if (
        this.head.slice(0, known) !== ARMOR_PREFIX.slice(0, known) ||
        (final && known < ARMOR_PREFIX.length)
      ) {
        refuse(`armored envelopes start with "${ARMOR_PREFIX}" (no whitespace inside it)`);
      }
      if (known < ARMOR_PREFIX.length) return EMPTY;
      this.inBody = true;
      body = this.head.slice(ARMOR_PREFIX.length);
      this.head = "";
    }
    const characters = body.replace(WHITESPACE, "");
    if (!BASE64URL.test(characters)) refuse("a character outside unpadded base64url");
    const all = this.pending + characters;
    const whole = final ? all.length : all.length - (all.length % 4);
    this.pending = all.slice(whole);
    const group = all.slice(0, whole);
    if (final) checkCanonicalEnd(group);
    if (group.length === 0) return EMPTY;
    const decoded = Buffer.from(group, "base64url");
    return new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.byteLength) as Uint8Array<ArrayBuffer>;
  }
}

/** The end of the body: not 1 mod 4, and the unused bits of the last character zero. */
function checkCanonicalEnd(characters: string): void {
  const tail = characters.length % 4;
  if (tail === 1) refuse("the base64url text has an impossible length");
  if (tail !== 0) {
    // 2 characters carry 1 byte (4 unused bits), 3 carry 2 bytes (2 unused bits).
    const unusedBits = tail === 2 ? 0x0f : 0x03;
    if ((base64urlValue(characters.charCodeAt(characters.length - 1)) & unusedBits) !== 0) {
      refuse("non-canonical base64url (unused bits of the last character are not zero)");
    }
  }
}

export function dearmor(text: string | Uint8Array): Uint8Array<ArrayBuffer> {
  // The whole text as the last piece: one decode of the body, no concatenation.
  return new ArmorDecoder().finish(toText(text, "dearmor"));
}
