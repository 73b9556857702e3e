import type { Limits } from "@kms-envelope/core";
import {
  ByteReader,
  decodeHeaderPrefix,
  NeedMoreBytes,
  readFrame,
  TAG_LENGTH,
} from "@kms-envelope/core/format";

/** A named byte range of an envelope: `[start, end)`. */
export interface FieldRange {
  readonly start: number;
  readonly end: number;
}

/**
 * Where every field of a well-formed envelope lies, by the names docs/format.md
 * uses: "magic", "version", "suite", "message-id", "frame-length",
 * "context-length", "context", "commitment", "header-tag", "wrapped-key-count",
 * "wrapped-key-<i>.provider-length|provider|key-id-length|key-id|wrapped-length|wrapped",
 * "frame-<n>.marker|length|ciphertext|tag" (n from 1; "length" on the final
 * frame only) and "frame-<n>" for a whole frame. Mutations name fields, so
 * the same tampering applies to any provider's envelope.
 */
export interface EnvelopeLayout {
  readonly fields: ReadonlyMap<string, FieldRange>;
  readonly frameCount: number;
  readonly headerLength: number;
  readonly length: number;
}

const PERMISSIVE: Limits = {
  maxWrappedKeys: 0xffff,
  maxWrappedKeyBytes: 0xffff,
  maxKeyIdBytes: 0xffff,
  maxContextBytes: 0xffff,
  minFrameLength: 1,
  maxFrameLength: 1024 * 1024 * 1024,
  maxPlaintextBytes: Number.MAX_SAFE_INTEGER,
};

export function layoutOf(envelope: Uint8Array): EnvelopeLayout {
  const header = decodeHeaderPrefix(envelope, PERMISSIVE);
  const fields = new Map<string, FieldRange>();
  const add = (name: string, start: number, length: number) => {
    fields.set(name, { start, end: start + length });
    return start + length;
  };
  let at = 0;
  at = add("magic", at, 4);
  at = add("version", at, 1);
  at = add("suite", at, 2);
  at = add("message-id", at, 32);
  at = add("frame-length", at, 4);
  at = add("context-length", at, 2);
  at = add("context", at, header.contextBytes.length);
  at = add("commitment", at, 32);
  at = add("header-tag", at, TAG_LENGTH);
  at = add("wrapped-key-count", at, 2);
  header.wrappedKeys.forEach((entry, i) => {
    const prefix = `wrapped-key-${i}`;
    at = add(`${prefix}.provider-length`, at, 1);
    at = add(`${prefix}.provider`, at, Buffer.byteLength(entry.provider));
    at = add(`${prefix}.key-id-length`, at, 2);
    at = add(`${prefix}.key-id`, at, Buffer.byteLength(entry.keyId));
    at = add(`${prefix}.wrapped-length`, at, 2);
    at = add(`${prefix}.wrapped`, at, entry.wrapped.length);
  });
  if (at !== header.length) throw new Error("layout: header length disagrees with its fields");
  const reader = new ByteReader(envelope);
  reader.offset = header.length;
  let frameCount = 0;
  for (let sequence = 1; reader.remaining > 0; sequence++) {
    const start = reader.offset;
    let frame: ReturnType<typeof readFrame>;
    try {
      frame = readFrame(reader, header.frameLength, sequence);
    } catch (error) {
      if (error instanceof NeedMoreBytes) throw new Error("layout: the envelope is truncated");
      throw error;
    }
    const prefix = `frame-${sequence}`;
    let inner = add(`${prefix}.marker`, start, 1);
    if (frame.final) inner = add(`${prefix}.length`, inner, 4);
    inner = add(`${prefix}.ciphertext`, inner, frame.ciphertext.length);
    add(`${prefix}.tag`, inner, TAG_LENGTH);
    add(prefix, start, reader.offset - start);
    frameCount = sequence;
    if (frame.final) break;
  }
  return { fields, frameCount, headerLength: header.length, length: envelope.length };
}

export function fieldRange(layout: EnvelopeLayout, name: string): FieldRange {
  const resolved = name.replace(/^frame-last\b/, `frame-${layout.frameCount}`);
  const range = layout.fields.get(resolved);
  if (range === undefined) throw new Error(`layout: the envelope has no field "${name}"`);
  return range;
}
