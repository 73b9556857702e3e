import type { Limits } from "@kms-envelope/core";
import { decodeHeaderPrefix, FrameDecoder, type FrameSink, TAG_LENGTH } from "@kms-envelope/core/format";

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
  // Core's own frame decoder finds the frames; this sink only records where each one lies.
  let frameCount = 0;
  let position = header.length;
  const sink: FrameSink = {
    begin(sequence, final, length) {
      const prefix = `frame-${sequence}`;
      let inner = add(`${prefix}.marker`, position, 1);
      if (final) inner = add(`${prefix}.length`, inner, 4);
      inner = add(`${prefix}.ciphertext`, inner, length);
      const end = add(`${prefix}.tag`, inner, TAG_LENGTH);
      add(prefix, position, end - position);
      position = end;
      frameCount = sequence;
    },
    ciphertext: () => undefined,
    end: () => undefined,
  };
  const decoder = new FrameDecoder(header.frameLength, Number.MAX_SAFE_INTEGER, sink);
  try {
    decoder.push(envelope.subarray(header.length));
    decoder.finish();
  } catch (error) {
    throw new Error(`layout: the envelope's body is not well-formed (${(error as Error).message})`);
  }
  return { fields, frameCount, headerLength: header.length, length: envelope.length };
}

export function fieldRange(layout: EnvelopeLayout, name: string): FieldRange {
  const resolved = name.replace(/^frame-last\b/, `frame-${layout.frameCount}`);
  const range = layout.fields.get(resolved);
  if (range === undefined) throw new Error(`layout: the envelope has no field "${name}"`);
  return range;
}
