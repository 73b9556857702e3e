import fc from "fast-check";

/**
 * One change to an envelope's bytes. Splices take a prefix of one envelope and
 * a suffix of another, the way an attacker (or a bad copy) joins two files.
 */
export type Mutation =
  | { readonly kind: "bit-flip"; readonly at: number; readonly bit: number }
  | { readonly kind: "insert"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "delete"; readonly at: number; readonly length: number }
  | { readonly kind: "truncate"; readonly at: number }
  | { readonly kind: "overwrite"; readonly at: number; readonly bytes: Uint8Array }
  | { readonly kind: "splice"; readonly at: number; readonly otherAt: number; readonly other: number };

export const MUTATION_KINDS = ["bit-flip", "insert", "delete", "truncate", "overwrite", "splice"] as const;

/**
 * Positions are fractions of the length (in 1/65536ths) so one mutation fits
 * any envelope. Integers, not doubles: fast-check's doubles crowd near 0.
 */
const position = fc.integer({ min: 0, max: 0xffff }).map((n) => n / 0x10000);

export const mutationArbitrary: fc.Arbitrary<Mutation> = fc.oneof(
  {
    weight: 4,
    arbitrary: fc.record({ kind: fc.constant("bit-flip" as const), at: position, bit: fc.nat(7) }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("insert" as const),
      at: position,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 16 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("delete" as const),
      at: position,
      length: fc.integer({ min: 1, max: 32 }),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("truncate" as const), at: position }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant("overwrite" as const),
      at: position,
      bytes: fc.uint8Array({ minLength: 1, maxLength: 8 }),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant("splice" as const),
      at: position,
      otherAt: position,
      other: fc.nat(),
    }),
  },
);

/** Applies `mutation` to `bytes`; `others` supplies the second envelope of a splice. */
export function applyMutation(
  bytes: Uint8Array,
  mutation: Mutation,
  others: readonly Uint8Array[],
): { bytes: Uint8Array; spliceWith?: number } {
  const at = Math.floor(mutation.at * bytes.length);
  const out = Buffer.from(bytes);
  switch (mutation.kind) {
    case "bit-flip":
      if (out.length > 0) out[at] = out[at]! ^ (1 << mutation.bit);
      return { bytes: out };
    case "insert":
      return { bytes: Buffer.concat([out.subarray(0, at), mutation.bytes, out.subarray(at)]) };
    case "delete":
      return { bytes: Buffer.concat([out.subarray(0, at), out.subarray(at + mutation.length)]) };
    case "truncate":
      return { bytes: out.subarray(0, at) };
    case "overwrite":
      out.set(mutation.bytes.subarray(0, Math.max(0, out.length - at)), at);
      return { bytes: out };
    case "splice": {
      const index = mutation.other % others.length;
      const other = others[index]!;
      const otherAt = Math.floor(mutation.otherAt * other.length);
      // A splice at 0 would be the other envelope whole: keep at least one byte of this one.
      const cut = Math.max(1, at);
      return { bytes: Buffer.concat([out.subarray(0, cut), other.subarray(otherAt)]), spliceWith: index };
    }
  }
}

/** Chunk sizes that cut a stream at random places: 1-byte writes, odd sizes, whole-buffer writes. */
export const chunkingArbitrary = fc.array(fc.integer({ min: 1, max: 97 }), { minLength: 1, maxLength: 12 });

export function chunk(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let offset = 0, turn = 0; offset < bytes.length; turn++) {
    const size = sizes[turn % sizes.length]!;
    chunks.push(bytes.subarray(offset, offset + size));
    offset += size;
  }
  return chunks;
}
