import { badArgument, checkBytes, checkCount } from "./arguments.js";

/**
 * Big-endian byte writer and bounds-checked reader. Pure: no crypto, no I/O.
 * The reader never allocates from a length it has not first compared with
 * the bytes it actually holds.
 */
export class ByteWriter {
  private buffer: Uint8Array;
  private view: DataView;
  length = 0;

  constructor(initialCapacity = 256) {
    checkCount(initialCapacity, "ByteWriter", "initialCapacity");
    this.buffer = new Uint8Array(initialCapacity);
    this.view = new DataView(this.buffer.buffer);
  }

  private reserve(extra: number): void {
    const needed = this.length + extra;
    if (needed <= this.buffer.length) return;
    const grown = new Uint8Array(Math.max(needed, this.buffer.length * 2));
    grown.set(this.buffer.subarray(0, this.length));
    this.buffer = grown;
    this.view = new DataView(grown.buffer);
  }

  u8(value: number): this {
    this.reserve(1);
    this.view.setUint8(this.length, value);
    this.length += 1;
    return this;
  }

  u16(value: number): this {
    this.reserve(2);
    this.view.setUint16(this.length, value);
    this.length += 2;
    return this;
  }

  u32(value: number): this {
    this.reserve(4);
    this.view.setUint32(this.length, value);
    this.length += 4;
    return this;
  }

  bytes(value: Uint8Array): this {
    this.reserve(value.length);
    this.buffer.set(value, this.length);
    this.length += value.length;
    return this;
  }

  /** A copy of what has been written. */
  finish(): Uint8Array<ArrayBuffer> {
    return this.buffer.slice(0, this.length);
  }
}

/** Thrown by `ByteReader` when the input ends early; the incremental parser waits for more. */
export class NeedMoreBytes extends Error {
  constructor(readonly needed: number) {
    checkCount(needed, "NeedMoreBytes", "needed");
    super(`need ${needed} more bytes`);
  }
}

export class ByteReader {
  offset = 0;
  private readonly view: DataView;

  constructor(readonly input: Uint8Array) {
    checkBytes(input, "ByteReader", "input");
    this.view = new DataView(input.buffer, input.byteOffset, input.byteLength);
  }

  get remaining(): number {
    return this.input.length - this.offset;
  }

  private need(count: number): void {
    if (this.remaining < count) throw new NeedMoreBytes(count - this.remaining);
  }

  u8(): number {
    this.need(1);
    return this.view.getUint8(this.offset++);
  }

  u16(): number {
    this.need(2);
    const value = this.view.getUint16(this.offset);
    this.offset += 2;
    return value;
  }

  u32(): number {
    this.need(4);
    const value = this.view.getUint32(this.offset);
    this.offset += 4;
    return value;
  }

  /** A view into the input (no copy). Call only after checking `count` against limits. */
  bytes(count: number): Uint8Array {
    this.need(count);
    const value = this.input.subarray(this.offset, this.offset + count);
    this.offset += count;
    return value;
  }
}

/**
 * Strict (invalid UTF-8 throws, never becomes U+FFFD) and BOM-preserving: by default a
 * TextDecoder drops a leading U+FEFF, which would make "\uFEFFa" and "a" decode alike.
 */
const strictDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
const encoder = new TextEncoder();

export function utf8(value: string): Uint8Array {
  if (typeof value !== "string") badArgument("utf8", "value must be a string");
  return encoder.encode(value);
}

/** Up to this length, ASCII is decoded by hand: a `TextDecoder` call costs ~0.4 µs. */
const SHORT_ASCII = 64;

/** Decodes UTF-8, returning undefined for invalid sequences instead of replacing them. */
export function fromUtf8Strict(value: Uint8Array): string | undefined {
  checkBytes(value, "fromUtf8Strict", "value");
  if (value.length <= SHORT_ASCII) {
    let text = "";
    let ascii = true;
    for (let i = 0; i < value.length; i++) {
      const byte = value[i]!;
      if (byte >= 0x80) {
        ascii = false;
        break;
      }
      text += String.fromCharCode(byte);
    }
    if (ascii) return text;
  }
  try {
    return strictDecoder.decode(value);
  } catch {
    return undefined;
  }
}

export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  checkBytes(a, "compareBytes", "a");
  checkBytes(b, "compareBytes", "b");
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const difference = a[i]! - b[i]!;
    if (difference !== 0) return difference;
  }
  return a.length - b.length;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array<ArrayBuffer> {
  if (!Array.isArray(parts)) badArgument("concatBytes", "parts must be an array of Uint8Arrays");
  for (const part of parts) checkBytes(part, "concatBytes", "parts");
  let total = 0;
  for (const part of parts) total += part.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
