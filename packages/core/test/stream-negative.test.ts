import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createKeyring, decrypt, decryptStream, decryptWebStream, encrypt } from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { type Outcome, outcome } from "./support/outcome.js";
import { chunked, throughNode, throughWeb } from "./support/stream-helpers.js";

const frameLength = 32;
const { kek } = createMemoryKek();
const keyring = createKeyring({ primary: kek });
const context = { app: "stream-negative" };
/** Every byte position, through five decoders: ~15 s alone, over 30 s on a loaded 2-CPU machine. */
const EXHAUSTIVE_TIMEOUT_MS = 120_000;

/** The buffer API's outcome, then each stream's with several chunkings: all must agree. */
async function expectSameOutcome(
  envelope: Uint8Array,
  expected?: Partial<Record<"code", string>>,
): Promise<Outcome> {
  const reference = await outcome(
    async () => (await decrypt(envelope, { keyring, expectedContext: context })).plaintext,
  );
  if (expected?.code !== undefined) expect(reference).toEqual({ code: expected.code });
  for (const size of [1, 5, 33, envelope.length || 1]) {
    const node = await outcome(() =>
      throughNode(decryptStream({ keyring, expectedContext: context }), chunked(envelope, size)),
    );
    const web = await outcome(() =>
      throughWeb(decryptWebStream({ keyring, expectedContext: context }), chunked(envelope, size)),
    );
    expect({ size, node }).toEqual({ size, node: reference });
    expect({ size, web }).toEqual({ size, web: reference });
  }
  return reference;
}

describe("streaming decrypt fails exactly where the buffer decrypt does", async () => {
  const plaintext = randomBytes(3 * frameLength + 10);
  const envelope = await encrypt(plaintext, { keyring, context, frameLength });
  const { header } = await decrypt(envelope, { keyring });
  const headerLength = header.headerLength;
  const regular = frameLength + 17;
  const bodyStart = headerLength;

  it(
    "truncation at every byte: MALFORMED inside the header, TAMPERED after it",
    async () => {
      for (let cut = 0; cut < envelope.length; cut++) {
        const result = await expectSameOutcome(envelope.subarray(0, cut));
        expect(result).toEqual({ code: cut < headerLength ? "MALFORMED" : "TAMPERED" });
      }
    },
    EXHAUSTIVE_TIMEOUT_MS,
  );

  it("a clean end at a frame boundary with no final frame is TAMPERED", async () => {
    for (let frames = 0; frames <= 3; frames++) {
      await expectSameOutcome(envelope.subarray(0, bodyStart + frames * regular), { code: "TAMPERED" });
    }
  });

  it("trailing bytes after the final frame are MALFORMED, and no plaintext is released", async () => {
    await expectSameOutcome(Buffer.concat([envelope, Buffer.of(0)]), { code: "MALFORMED" });
    await expectSameOutcome(Buffer.concat([envelope, envelope]), { code: "MALFORMED" });
  });

  it("reordered, duplicated and dropped frames: each its one code (docs/format.md, Body)", async () => {
    const frame = (i: number) => envelope.subarray(bodyStart + i * regular, bodyStart + (i + 1) * regular);
    const final = envelope.subarray(bodyStart + 3 * regular);
    const head = envelope.subarray(0, bodyStart);
    const variants: [string, Uint8Array[], string][] = [
      // A frame at the wrong position fails its tag: the nonce and AAD come from the expected sequence.
      ["swapped", [frame(1), frame(0), frame(2), final], "TAMPERED"],
      ["duplicated", [frame(0), frame(0), frame(1), frame(2), final], "TAMPERED"],
      ["dropped", [frame(0), frame(2), final], "TAMPERED"],
      // No final frame: truncated.
      ["final dropped", [frame(0), frame(1), frame(2)], "TAMPERED"],
      // Bytes after the final frame.
      ["final duplicated", [frame(0), frame(1), frame(2), final, final], "MALFORMED"],
    ];
    for (const [name, frames, code] of variants) {
      const result = await expectSameOutcome(Buffer.concat([head, ...frames]));
      expect({ name, result }).toEqual({ name, result: { code } });
    }
  });

  it(
    "a flipped bit anywhere gives the same code (or, in the wrapped-key list, maybe success)",
    async () => {
      for (let at = 0; at < envelope.length; at++) {
        const mutated = Buffer.from(envelope);
        mutated[at]! ^= 0x01;
        const result = await expectSameOutcome(mutated);
        if (at >= bodyStart) expect(result).toHaveProperty("code");
      }
    },
    EXHAUSTIVE_TIMEOUT_MS,
  );

  it("unknown frame marker and an overlong final frame are MALFORMED", async () => {
    const badMarker = Buffer.from(envelope);
    badMarker[bodyStart] = 7;
    await expectSameOutcome(badMarker, { code: "MALFORMED" });
    const overlong = Buffer.from(envelope);
    overlong.writeUInt32BE(frameLength + 1, bodyStart + 3 * regular + 1);
    await expectSameOutcome(overlong, { code: "MALFORMED" });
  });

  it("a plaintext of exactly the limit is allowed; one byte over is LIMIT_EXCEEDED", async () => {
    const exact = { maxPlaintextBytes: plaintext.length };
    const opened = await outcome(async () => (await decrypt(envelope, { keyring, limits: exact })).plaintext);
    expect(opened).toEqual({ plaintext: plaintext.toString("hex") });
    expect(
      await outcome(() => throughNode(decryptStream({ keyring, limits: exact }), chunked(envelope, 7))),
    ).toEqual(opened);
    const under = { maxPlaintextBytes: plaintext.length - 1 };
    const refused = await outcome(
      async () => (await decrypt(envelope, { keyring, limits: under })).plaintext,
    );
    expect(refused).toEqual({ code: "LIMIT_EXCEEDED" });
    expect(
      await outcome(() => throughWeb(decryptWebStream({ keyring, limits: under }), chunked(envelope, 7))),
    ).toEqual(refused);
  });

  it("the plaintext limit is LIMIT_EXCEEDED on both paths", async () => {
    const limits = { maxPlaintextBytes: 40 };
    const reference = await outcome(async () => (await decrypt(envelope, { keyring, limits })).plaintext);
    expect(reference).toEqual({ code: "LIMIT_EXCEEDED" });
    expect(
      await outcome(() => throughNode(decryptStream({ keyring, limits }), chunked(envelope, 7))),
    ).toEqual(reference);
    expect(
      await outcome(() => throughWeb(decryptWebStream({ keyring, limits }), chunked(envelope, 7))),
    ).toEqual(reference);
  });

  it("a wrong expected context is CONTEXT_MISMATCH before any KMS call", async () => {
    const { kek: counted, calls } = createMemoryKek("memory-1");
    const stream = decryptStream({
      keyring: createKeyring({ primary: counted }),
      expectedContext: { app: "other" },
    });
    expect(await outcome(() => throughNode(stream, [envelope]))).toEqual({ code: "CONTEXT_MISMATCH" });
    expect(calls.unwrap).toBe(0);
    await expect(stream.header).rejects.toMatchObject({ code: "CONTEXT_MISMATCH" });
  });
});

describe("no plaintext before its frame verifies", () => {
  it("emits nothing from a frame whose tag fails, even when earlier frames were fine", async () => {
    const plaintext = randomBytes(3 * frameLength + 5);
    const envelope = Buffer.from(await encrypt(plaintext, { keyring, frameLength }));
    const { header } = await decrypt(envelope, { keyring });
    // Corrupt the second frame's tag.
    envelope[header.headerLength + 2 * (frameLength + 17) - 1]! ^= 0xff;
    const received: Buffer[] = [];
    const stream = decryptStream({ keyring });
    stream.on("data", (chunk: Buffer) => received.push(chunk));
    const result = await outcome(() => throughNode(stream, chunked(envelope, 3)));
    expect(result).toEqual({ code: "TAMPERED" });
    expect(Buffer.concat(received).equals(plaintext.subarray(0, frameLength))).toBe(true);
  });

  it("holds the final frame until the input ends, so trailing bytes release none of it", async () => {
    const plaintext = randomBytes(10);
    const envelope = Buffer.concat([await encrypt(plaintext, { keyring, frameLength }), Buffer.of(1)]);
    const received: Buffer[] = [];
    const stream = decryptStream({ keyring });
    stream.on("data", (chunk: Buffer) => received.push(chunk));
    expect(await outcome(() => throughNode(stream, [envelope]))).toEqual({ code: "MALFORMED" });
    expect(received).toHaveLength(0);
  });
});
