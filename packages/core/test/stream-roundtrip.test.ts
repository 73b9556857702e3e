import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createKeyring,
  decrypt,
  decryptStream,
  decryptWebStream,
  encrypt,
  encryptStream,
  encryptWebStream,
} from "../src/index.js";
import { DecryptSession } from "../src/stream/decrypt-session.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { chunked, throughNode, throughWeb } from "./support/stream-helpers.js";

const frameLength = 64;
const sizes = [0, 1, 63, 64, 65, 128, 129, 1000];
const chunkSizes = [1, 7, 64, 65, 4096];

describe("streams produce and accept the buffer API's bytes", () => {
  const { kek } = createMemoryKek();
  const keyring = createKeyring({ primary: kek });
  const context = { tenant: "acme" };

  for (const size of sizes) {
    it(`encryptStream output decrypts with decrypt (${size} bytes, every chunking)`, async () => {
      const plaintext = randomBytes(size);
      for (const chunkSize of chunkSizes) {
        const node = await throughNode(
          encryptStream({ keyring, context, frameLength }),
          chunked(plaintext, chunkSize),
        );
        const web = await throughWeb(
          encryptWebStream({ keyring, context, frameLength }),
          chunked(plaintext, chunkSize),
        );
        for (const envelope of [node, web]) {
          const result = await decrypt(envelope, { keyring, expectedContext: context });
          expect(Buffer.from(result.plaintext).equals(plaintext)).toBe(true);
          // Same framing as the buffer API: same length for the same plaintext and frame length.
          const reference = await encrypt(plaintext, { keyring, context, frameLength });
          expect(envelope.length).toBe(reference.length);
        }
      }
    });

    it(`decryptStream opens what encrypt made (${size} bytes, every chunking)`, async () => {
      const plaintext = randomBytes(size);
      const envelope = await encrypt(plaintext, { keyring, context, frameLength });
      for (const chunkSize of chunkSizes) {
        const node = decryptStream({ keyring, expectedContext: context });
        expect((await throughNode(node, chunked(envelope, chunkSize))).equals(plaintext)).toBe(true);
        const web = decryptWebStream({ keyring, expectedContext: context });
        expect((await throughWeb(web, chunked(envelope, chunkSize))).equals(plaintext)).toBe(true);
        expect((await node.header).header.context).toEqual(context);
        expect((await web.header).unwrappedWith).toEqual({ provider: "memory", keyId: "memory-1" });
      }
    });
  }

  it("body bytes after the header equal the buffer API's for the same header", async () => {
    // The header differs per message (random id and DEK); the stream's frames must
    // decrypt frame by frame, which decrypt verifies, and the wire lengths must match.
    const plaintext = randomBytes(300);
    const envelope = await throughNode(encryptStream({ keyring, frameLength }), chunked(plaintext, 50));
    const { header } = await decrypt(envelope, { keyring });
    expect(envelope.length - header.headerLength).toBe(4 * (frameLength + 17) + 5 + 44 + 16);
  });

  it("calls onHeader once, before any plaintext", async () => {
    const envelope = await encrypt(randomBytes(200), { keyring, frameLength });
    const events: string[] = [];
    const transform = decryptStream({ keyring, onHeader: () => events.push("header") });
    transform.on("data", () => events.push("data"));
    await throughNode(transform, chunked(envelope, 10));
    expect(events[0]).toBe("header");
    expect(events.filter((event) => event === "header")).toHaveLength(1);
  });
});

describe("a byte-at-a-time producer", () => {
  it("gets plaintext in a few large chunks, not one buffer per byte", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const plaintext = randomBytes(300 * 1024);
    const envelope = await encrypt(plaintext, { keyring, frameLength: 256 * 1024 });
    const session = new DecryptSession({ keyring });
    const out: Uint8Array[] = [];
    for (let at = 0; at < envelope.length; at++)
      await session.push(envelope.subarray(at, at + 1), (part) => out.push(part));
    session.finish((part) => out.push(part));
    expect(Buffer.concat(out).equals(plaintext)).toBe(true);
    // 64 KiB slices: 4 for the first frame and 1 for the second (plus GCM's empty tails, which are dropped).
    expect(out.length).toBeLessThanOrEqual(8);
  });
});
