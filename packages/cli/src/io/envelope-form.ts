import { ArmorDecoder } from "@kms-envelope/core";

/**
 * An envelope arriving in either form, turned into binary envelope bytes
 * piece by piece (constant memory). The form is told apart by core's rule
 * (its `isArmored`): after leading SP/HT/LF/CR, lowercase `kmse` is the
 * armored form, anything else binary. Armored text is decoded by core's
 * `ArmorDecoder`, so the CLI accepts exactly the texts `dearmor` accepts
 * (canonical base64url; whitespace is SP/HT/LF/CR, not FF, VT or NBSP) and
 * refuses the rest with `MALFORMED` (check `armor`).
 */
export type EnvelopeForm = "binary" | "armored";

const ARMOR_FAMILY = Buffer.from("kmse", "latin1");
const isArmorWhitespace = (byte: number) => byte === 0x20 || byte === 0x09 || byte === 0x0a || byte === 0x0d;

/** Whether `bytes` (complete enough: at least the first non-whitespace four) start an armored text. */
export function startsArmored(bytes: Uint8Array): boolean {
  let at = 0;
  while (at < bytes.length && isArmorWhitespace(bytes[at]!)) at++;
  return ARMOR_FAMILY.every((byte, i) => bytes[at + i] === byte);
}

export interface EnvelopeBytes {
  /** Known once enough bytes have arrived (always after `finish`). */
  readonly form: EnvelopeForm | undefined;
  /** The binary envelope bytes `chunk` completes, if any. */
  push(chunk: Uint8Array): Uint8Array | undefined;
  /** The rest, after the armored form's end is checked. */
  finish(): Uint8Array | undefined;
}

const nonEmpty = (bytes: Uint8Array) => (bytes.length === 0 ? undefined : bytes);

export function envelopeBytes(onForm: (form: EnvelopeForm) => void = () => {}): EnvelopeBytes {
  let form: EnvelopeForm | undefined;
  /** The first byte of skipped leading whitespace, if any: a binary envelope must not start with it. */
  let skipped: Buffer | undefined;
  /** Bytes after the leading whitespace, until the form is known. */
  let head: Buffer = Buffer.alloc(0);
  const armor = new ArmorDecoder();
  const sniff = (chunk: Uint8Array, ended: boolean): Uint8Array | undefined => {
    let at = 0;
    if (head.length === 0) {
      while (at < chunk.length && isArmorWhitespace(chunk[at]!)) at++;
      if (at > 0 && skipped === undefined) skipped = Buffer.from(chunk.subarray(0, 1));
    }
    const rest = Buffer.from(chunk.buffer, chunk.byteOffset + at, chunk.byteLength - at);
    head = head.length === 0 ? rest : Buffer.concat([head, rest]);
    if (head.length < ARMOR_FAMILY.length && !ended) return undefined;
    const bytes = head;
    head = Buffer.alloc(0);
    form = bytes.length >= ARMOR_FAMILY.length && startsArmored(bytes) ? "armored" : "binary";
    onForm(form);
    if (form === "armored") return nonEmpty(armor.push(bytes));
    // Whitespace before a binary envelope is kept, so the header parser refuses it as core does.
    return nonEmpty(skipped === undefined ? bytes : Buffer.concat([skipped, bytes]));
  };
  return {
    get form() {
      return form;
    },
    push(chunk) {
      if (form === "binary") return chunk;
      if (form === "armored") return nonEmpty(armor.push(chunk));
      return sniff(chunk, false);
    },
    finish() {
      const last = form === undefined ? sniff(new Uint8Array(0), true) : undefined;
      if (form === "binary") return last;
      const rest = armor.finish();
      if (last === undefined) return nonEmpty(rest);
      return rest.length === 0 ? last : Buffer.concat([last, rest]);
    },
  };
}
