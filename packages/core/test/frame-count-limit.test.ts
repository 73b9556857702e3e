import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { afterEach, describe, expect, it } from "vitest";
import { frameSealerSeam } from "../src/body.js";
import { MAX_FRAME_COUNT, planFrames } from "../src/format/index.js";
import {
  createKeyring,
  EnvelopeError,
  encrypt,
  encryptStream,
  encryptWebStream,
  inspect,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

// Issue #10, defect 1: frame 2³² would be sealed with sequence 0 (the header tag's nonce) and
// frame 2³² + 1 with frame 1's, under the same key. Every encrypt path must refuse the frame
// before sealing it: LIMIT_EXCEEDED, check "frame-count". The seam starts the sealer's counter
// near the limit so that a few bytes with frameLength 1 reach it.
const { kek } = createMemoryKek();
const keyring = createKeyring({ primary: kek });
const options = { keyring, frameLength: 1 };
/** Regular frame on the wire with frameLength 1: marker, 1 byte, tag. */
const REGULAR_FRAME_BYTES = 1 + 1 + 16;

afterEach(() => {
  frameSealerSeam.firstSequence = 1;
});

function expectFrameCount(error: unknown) {
  expect(error).toBeInstanceOf(EnvelopeError);
  expect((error as EnvelopeError).code).toBe("LIMIT_EXCEEDED");
  expect((error as EnvelopeError).message.startsWith("frame-count:")).toBe(true);
}

/** Pipes `input` through a Node transform; returns what was emitted and how it ended. */
async function runNode(transform: NodeJS.ReadWriteStream, input: Uint8Array) {
  const out: Buffer[] = [];
  const error = await pipeline(
    Readable.from([Buffer.from(input)]),
    transform,
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  ).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  return { out: Buffer.concat(out), error };
}

async function runWeb(transform: TransformStream<Uint8Array, Uint8Array>, input: Uint8Array) {
  const out: Uint8Array[] = [];
  const reader = new Blob([input]).stream().pipeThrough(transform).getReader();
  let error: unknown;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      out.push(value);
    }
  } catch (caught) {
    error = caught;
  }
  return { out: Buffer.concat(out), error };
}

describe("frame-count limit on encrypt (2^32 - 1 frames)", () => {
  it("buffer plan: exactly 2^32 - 1 frames is allowed, one more is refused", () => {
    expect(planFrames(MAX_FRAME_COUNT, 1)).toEqual({ regularFrames: MAX_FRAME_COUNT - 1, finalLength: 1 });
    let error: unknown;
    try {
      planFrames(MAX_FRAME_COUNT + 1, 1);
    } catch (caught) {
      error = caught;
    }
    expectFrameCount(error);
  });

  it("buffer encrypt: seals frame 2^32 - 1, refuses frame 2^32", async () => {
    frameSealerSeam.firstSequence = MAX_FRAME_COUNT - 1;
    // Two frames: sequences 2^32 - 2 and 2^32 - 1.
    await expect(encrypt(new Uint8Array(2), options)).resolves.toBeInstanceOf(Uint8Array);
    // Three frames: the third would be sequence 2^32, written as 0.
    expectFrameCount(await encrypt(new Uint8Array(3), options).catch((caught: unknown) => caught));
  });

  it.each([
    ["Node stream", (input: Uint8Array) => runNode(encryptStream(options), input)],
    ["Web stream", (input: Uint8Array) => runWeb(encryptWebStream(options), input)],
  ] as const)("%s: stops before sealing frame 2^32", async (_name, run) => {
    frameSealerSeam.firstSequence = MAX_FRAME_COUNT - 1;
    expect((await run(new Uint8Array(2))).error).toBeUndefined();
    const failed = await run(new Uint8Array(3));
    expectFrameCount(failed.error);
    // Only the header and the two frames within the limit ever left the sealer.
    expect(failed.out.length).toBe(inspect(failed.out).headerLength + 2 * REGULAR_FRAME_BYTES);
  });
});
