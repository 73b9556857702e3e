import { createHash, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import type { RandomSource } from "../src/crypto/random.js";
import { prepareMessage, sealMessage } from "../src/encrypt.js";
import { createKeyring, decrypt, decryptStream, type KeyEncryptionKey } from "../src/index.js";
import { EncryptSession } from "../src/stream/encrypt-session.js";
import { toNodeTransform } from "../src/stream/node-adapter.js";
import { toWebTransform } from "../src/stream/web-adapter.js";
import { chunked, throughNode, throughWeb } from "./support/stream-helpers.js";

/** The same bytes every time it is created with the same label. */
function fixedRandom(label: string): RandomSource {
  let counter = 0;
  return (target) => {
    for (let at = 0; at < target.length; at += 32) {
      const block = createHash("sha256").update(`${label}/${counter++}`).digest();
      target.set(block.subarray(0, Math.min(32, target.length - at)), at);
    }
  };
}

/** A KEK whose wrap is deterministic, so that two runs give identical headers. */
const xorKek: KeyEncryptionKey = {
  provider: "xor",
  keyId: "xor-1",
  async wrap(dek) {
    return { keyId: "xor-1", wrapped: Buffer.from(dek.map((byte) => byte ^ 0x5a)) };
  },
  async unwrap(entry) {
    return Buffer.from(entry.wrapped.map((byte) => byte ^ 0x5a));
  },
};

describe("encryptStream writes exactly the bytes of the buffer API", () => {
  const keyring = createKeyring({ primary: xorKek });
  const context = { purpose: "exact-bytes" };

  for (const [size, frameLength] of [
    [0, 16],
    [1, 16],
    [16, 16],
    [17, 16],
    [1000, 64],
    [70_000, 4096],
  ] as const) {
    it(`${size} bytes in frames of ${frameLength}`, async () => {
      const plaintext = randomBytes(size);
      const options = { keyring, context, frameLength };
      const reference = Buffer.from(sealMessage(await prepareMessage(options, fixedRandom("x")), plaintext));
      for (const chunkSize of [1, 5, frameLength, frameLength + 1, 65_536]) {
        const node = toNodeTransform(new EncryptSession(options, fixedRandom("x")), undefined);
        expect((await throughNode(node, chunked(plaintext, chunkSize))).equals(reference)).toBe(true);
        const web = toWebTransform(new EncryptSession(options, fixedRandom("x")), undefined);
        expect((await throughWeb(web, chunked(plaintext, chunkSize))).equals(reference)).toBe(true);
      }
    });
  }

  it("frames larger than the cipher slices (1 MiB frames, 2.5 MiB, uneven chunks)", async () => {
    // Frames span several 64 KiB stream slices and 256 KiB buffer slices: the slicing must not show on the wire.
    const plaintext = randomBytes(2.5 * 1024 * 1024 + 123);
    const options = { keyring, context, frameLength: 1024 * 1024 };
    const reference = Buffer.from(sealMessage(await prepareMessage(options, fixedRandom("big")), plaintext));
    const uneven: Uint8Array[] = [];
    for (let at = 0, step = 1; at < plaintext.length; at += step, step = (step * 7 + 13) % 300_000 || 1) {
      uneven.push(plaintext.subarray(at, at + step));
    }
    const node = toNodeTransform(new EncryptSession(options, fixedRandom("big")), undefined);
    expect((await throughNode(node, uneven)).equals(reference)).toBe(true);
    const web = toWebTransform(new EncryptSession(options, fixedRandom("big")), undefined);
    expect((await throughWeb(web, uneven)).equals(reference)).toBe(true);
    const opened = await decrypt(reference, { keyring, expectedContext: context });
    expect(Buffer.from(opened.plaintext).equals(plaintext)).toBe(true);
    const streamed = await throughNode(
      decryptStream({ keyring, expectedContext: context }),
      chunked(reference, 100_000),
    );
    expect(streamed.equals(plaintext)).toBe(true);
  });
});
