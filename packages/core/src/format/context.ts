import { EnvelopeError } from "../errors.js";
import { checkBytes, checkObject } from "./arguments.js";
import { ByteReader, ByteWriter, compareBytes, fromUtf8Strict, NeedMoreBytes, utf8 } from "./bytes.js";

/** Not secret, but authenticated: bound into the header tag and handed to every KEK. */
export type EncryptionContext = Readonly<Record<string, string>>;

/** The largest encoded context the format can carry (u16 length prefix). */
export const FORMAT_MAX_CONTEXT_BYTES = 0xffff;

/**
 * Canonical bytes of a context: u16 pair count, then for each pair in
 * ascending order of the key's UTF-8 bytes: u16 key length, key, u16 value
 * length, value. Keys are non-empty and unique; strings must be well-formed
 * Unicode (a lone surrogate would otherwise be silently replaced).
 */
export function encodeContext(context: EncryptionContext): Uint8Array<ArrayBuffer> {
  return canonicalizeContext(context).bytes;
}

/** `encodeContext`, plus the pairs as strings in the same canonical order. */
export function canonicalizeContext(context: EncryptionContext): {
  bytes: Uint8Array<ArrayBuffer>;
  entries: [string, string][];
} {
  if (context === null || typeof context !== "object" || Array.isArray(context)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "encryption context must be an object of string pairs");
  }
  const pairs: { key: Uint8Array; value: Uint8Array; entry: [string, string] }[] = [];
  for (const entry of Object.entries(context)) {
    const [key, value] = entry;
    if (typeof value !== "string") {
      throw new EnvelopeError("INVALID_ARGUMENT", `encryption context value for "${key}" must be a string`);
    }
    if (key.length === 0)
      throw new EnvelopeError("INVALID_ARGUMENT", "encryption context keys must be non-empty");
    if (!key.isWellFormed() || !value.isWellFormed()) {
      throw new EnvelopeError("INVALID_ARGUMENT", "encryption context strings must be well-formed Unicode");
    }
    pairs.push({ key: utf8(key), value: utf8(value), entry: entry as [string, string] });
  }
  pairs.sort((a, b) => compareBytes(a.key, b.key));
  if (pairs.length > 0xffff) throw new EnvelopeError("LIMIT_EXCEEDED", "too many encryption context pairs");
  const writer = new ByteWriter(64);
  writer.u16(pairs.length);
  for (const { key, value } of pairs) {
    if (key.length > 0xffff || value.length > 0xffff) {
      throw new EnvelopeError("LIMIT_EXCEEDED", "an encryption context string exceeds 65535 bytes");
    }
    writer.u16(key.length).bytes(key).u16(value.length).bytes(value);
  }
  const encoded = writer.finish();
  if (encoded.length > FORMAT_MAX_CONTEXT_BYTES) {
    throw new EnvelopeError(
      "LIMIT_EXCEEDED",
      `encoded encryption context exceeds ${FORMAT_MAX_CONTEXT_BYTES} bytes`,
    );
  }
  return { bytes: encoded, entries: pairs.map((pair) => pair.entry) };
}

/**
 * Decodes canonical context bytes (the whole of `bytes`). Rejects anything
 * that `encodeContext` would not produce: keys out of order or repeated,
 * empty keys, invalid UTF-8, and bytes left over.
 */
export function decodeContext(bytes: Uint8Array): EncryptionContext {
  checkBytes(bytes, "decodeContext", "bytes");
  const reader = new ByteReader(bytes);
  const entries: [string, string][] = [];
  try {
    const count = reader.u16();
    let previousKey: Uint8Array | undefined;
    for (let i = 0; i < count; i++) {
      // Each length is checked against what remains before it is read.
      const key = reader.bytes(reader.u16());
      const value = reader.bytes(reader.u16());
      if (key.length === 0) throw new EnvelopeError("MALFORMED", "encryption context has an empty key");
      if (previousKey !== undefined && compareBytes(previousKey, key) >= 0) {
        throw new EnvelopeError("MALFORMED", "encryption context keys are not in canonical order or repeat");
      }
      previousKey = key;
      const keyText = fromUtf8Strict(key);
      const valueText = fromUtf8Strict(value);
      if (keyText === undefined || valueText === undefined) {
        throw new EnvelopeError("MALFORMED", "encryption context is not valid UTF-8");
      }
      entries.push([keyText, valueText]);
    }
  } catch (error) {
    if (error instanceof NeedMoreBytes) {
      throw new EnvelopeError("MALFORMED", "encryption context is shorter than its pair count says");
    }
    throw error;
  }
  if (reader.remaining !== 0) throw new EnvelopeError("MALFORMED", "encryption context has trailing bytes");
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays data.
  return Object.freeze(Object.fromEntries(entries));
}

/** Same pairs, whatever their order. */
export function contextsEqual(a: EncryptionContext, b: EncryptionContext): boolean {
  checkObject(a, "contextsEqual", "a");
  checkObject(b, "contextsEqual", "b");
  const aKeys = Object.keys(a);
  if (aKeys.length !== Object.keys(b).length) return false;
  return aKeys.every((key) => Object.hasOwn(b, key) && b[key] === a[key]);
}
