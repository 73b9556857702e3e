import { type EnvelopeLayout, fieldRange, layoutOf } from "./envelope-layout.js";

/**
 * A tampering described by field names rather than absolute offsets, so the
 * same mutation applies to an envelope made by any provider. `offset` counts
 * from the field's start (negative: from its end).
 */
export type Mutation =
  | { readonly kind: "none" }
  | { readonly kind: "flip"; readonly field: string; readonly offset: number; readonly bit: number }
  | { readonly kind: "set"; readonly field: string; readonly hex: string }
  | { readonly kind: "truncate"; readonly field: string; readonly offset: number }
  | { readonly kind: "swap-frames"; readonly a: number; readonly b: number }
  | { readonly kind: "duplicate-frame"; readonly frame: number }
  | { readonly kind: "drop-frame"; readonly frame: number }
  | { readonly kind: "append"; readonly hex: string };

function frameBytes(layout: EnvelopeLayout, frame: number | "last"): [number, number] {
  const range = fieldRange(layout, frame === "last" ? "frame-last" : `frame-${frame}`);
  return [range.start, range.end];
}

export function applyMutation(envelope: Uint8Array, mutation: Mutation): Uint8Array<ArrayBuffer> {
  const layout = layoutOf(envelope);
  const copy = new Uint8Array(envelope);
  switch (mutation.kind) {
    case "none":
      return copy;
    case "flip": {
      const range = fieldRange(layout, mutation.field);
      const index = mutation.offset >= 0 ? range.start + mutation.offset : range.end + mutation.offset;
      if (index < range.start || index >= range.end)
        throw new Error(`mutation: offset outside ${mutation.field}`);
      copy[index]! ^= 1 << mutation.bit;
      return copy;
    }
    case "set": {
      const range = fieldRange(layout, mutation.field);
      const value = Buffer.from(mutation.hex, "hex");
      if (value.length !== range.end - range.start)
        throw new Error(`mutation: value size differs from ${mutation.field}`);
      copy.set(value, range.start);
      return copy;
    }
    case "truncate": {
      const range = fieldRange(layout, mutation.field);
      const at = mutation.offset >= 0 ? range.start + mutation.offset : range.end + mutation.offset;
      return copy.slice(0, at);
    }
    case "swap-frames": {
      const [aStart, aEnd] = frameBytes(layout, mutation.a);
      const [bStart, bEnd] = frameBytes(layout, mutation.b);
      if (aEnd - aStart !== bEnd - bStart) throw new Error("mutation: swapped frames must have equal sizes");
      copy.set(envelope.subarray(aStart, aEnd), bStart);
      copy.set(envelope.subarray(bStart, bEnd), aStart);
      return copy;
    }
    case "duplicate-frame": {
      const [start, end] = frameBytes(layout, mutation.frame);
      return concat(envelope.subarray(0, end), envelope.subarray(start, end), envelope.subarray(end));
    }
    case "drop-frame": {
      const [start, end] = frameBytes(layout, mutation.frame);
      return concat(envelope.subarray(0, start), envelope.subarray(end));
    }
    case "append":
      return concat(envelope, Buffer.from(mutation.hex, "hex"));
  }
}

function concat(...parts: Uint8Array[]): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(parts.reduce((total, part) => total + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}
