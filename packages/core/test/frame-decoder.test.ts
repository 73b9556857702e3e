import { afterEach, describe, expect, it } from "vitest";
import { MAX_FRAME_COUNT } from "../src/format/constants.js";
import { type FrameCheck, FrameDecoder, type FrameSink } from "../src/format/frame-decoder.js";
import { frameDecoderSeam } from "../src/format/frame-decoder-seam.js";
import { EnvelopeError } from "../src/index.js";

/** A body of frames with dummy ciphertext and tags: the decoder checks structure, the sink the tags. */
function body(frameLength: number, plaintextLength: number): Uint8Array {
  const parts: number[] = [];
  let left = plaintextLength;
  let value = 0;
  while (left > frameLength) {
    parts.push(
      0x00,
      ...Array.from({ length: frameLength }, () => value++ & 0xff),
      ...new Array(16).fill(0xaa),
    );
    left -= frameLength;
  }
  parts.push(0x01, 0, 0, (left >> 8) & 0xff, left & 0xff);
  parts.push(...Array.from({ length: left }, () => value++ & 0xff), ...new Array(16).fill(0xbb));
  return Uint8Array.from(parts);
}

function recorder() {
  const events: string[] = [];
  const sink: FrameSink = {
    begin: (sequence, final, length) => events.push(`begin ${sequence} ${final} ${length}`),
    ciphertext: (piece) => events.push(...Array.from(piece, (byte) => `c${byte}`)),
    end: (tag) => events.push(`end ${tag[0]}`),
  };
  return { events, sink };
}

function run(input: Uint8Array, chunk: number, frameLength = 5, max = 1000) {
  const { events, sink } = recorder();
  const decoder = new FrameDecoder(frameLength, max, sink);
  try {
    for (let at = 0; at < input.length; at += chunk) decoder.push(input.subarray(at, at + chunk));
    decoder.finish();
    return { events, check: undefined };
  } catch (error) {
    return { events, check: (error as Error).message.split(":")[0] as FrameCheck };
  }
}

describe("FrameDecoder", () => {
  it("reports the same frames and ciphertext bytes whatever the chunking", () => {
    const input = body(5, 13);
    const whole = run(input, input.length);
    expect(whole.check).toBeUndefined();
    expect(whole.events.filter((event) => event.startsWith("begin"))).toEqual([
      "begin 1 false 5",
      "begin 2 false 5",
      "begin 3 true 3",
    ]);
    for (const chunk of [1, 2, 3, 7, 16, 17])
      expect(run(input, chunk).events, `chunk ${chunk}`).toEqual(whole.events);
  });

  it.each<[string, (input: Uint8Array) => Uint8Array, FrameCheck, number | undefined]>([
    ["an unknown marker", (input) => Uint8Array.of(0x02, ...input.subarray(1)), "frame-marker", undefined],
    [
      "a final length above the frame length",
      () => Uint8Array.of(0x01, 0, 0, 0, 6),
      "final-frame-length",
      undefined,
    ],
    ["a body cut inside a frame", (input) => input.subarray(0, input.length - 1), "truncated", undefined],
    ["a body without its final frame", (input) => input.subarray(0, 22), "truncated", undefined],
    ["a byte after the final frame", (input) => Uint8Array.of(...input, 0), "trailing-bytes", undefined],
    ["more plaintext than the limit", (input) => input, "plaintext-size", 12],
  ])("%s fails one named check, in any chunking", (_, mutate, check, max) => {
    const input = mutate(body(5, 13));
    for (const chunk of [1, 4, input.length]) expect(run(input, chunk, 5, max ?? 1000).check).toBe(check);
  });

  it("an empty final frame is one begin and one end, no ciphertext", () => {
    const { events, check } = run(body(5, 0), 1);
    expect([check, events]).toEqual([undefined, ["begin 1 true 0", "end 187"]]);
  });

  describe("frame-count (the decode side of the 2^32 - 1 frame limit)", () => {
    afterEach(() => {
      frameDecoderSeam.firstSequence = 1;
    });

    it("accepts a regular frame numbered 2^32 - 2 and refuses one numbered 2^32 - 1: MALFORMED, frame-count", () => {
      // Frame 2^32 - 1 may only be the final frame: a regular one would need a frame 2^32 after it.
      frameDecoderSeam.firstSequence = MAX_FRAME_COUNT - 1;
      const accepted = run(body(5, 8), 3);
      expect(accepted.check).toBeUndefined();
      expect(accepted.events.filter((event) => event.startsWith("begin"))).toEqual([
        `begin ${MAX_FRAME_COUNT - 1} false 5`,
        `begin ${MAX_FRAME_COUNT} true 3`,
      ]);

      frameDecoderSeam.firstSequence = MAX_FRAME_COUNT;
      const { events, sink } = recorder();
      const decoder = new FrameDecoder(5, 1000, sink);
      let caught: unknown;
      try {
        decoder.push(body(5, 8));
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(EnvelopeError);
      expect((caught as EnvelopeError).code).toBe("MALFORMED");
      expect((caught as EnvelopeError).message.startsWith("frame-count:")).toBe(true);
      expect(events).toEqual([]);
    });

    it("a final frame numbered 2^32 - 1 is still accepted", () => {
      frameDecoderSeam.firstSequence = MAX_FRAME_COUNT;
      const { check, events } = run(body(5, 3), 2);
      expect(check).toBeUndefined();
      expect(events[0]).toBe(`begin ${MAX_FRAME_COUNT} true 3`);
    });
  });
});
