import { createSecretKey, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { setTimeout as sleep } from "node:timers/promises";
import { describe, expect, it } from "vitest";
import {
  createKeyring,
  decryptStream,
  decryptWebStream,
  encrypt,
  encryptStream,
  encryptWebStream,
} from "../src/index.js";
import { BodyOpener } from "../src/stream/body-opener.js";
import { BodySealer } from "../src/stream/body-sealer.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { outcome } from "./support/outcome.js";
import { throughNode, throughWeb } from "./support/stream-helpers.js";

const isZero = (bytes: Uint8Array) => bytes.every((byte) => byte === 0);

/** Yields `count` chunks of `size`, recording how many were pulled. */
function countingSource(count: number, size: number) {
  const pulled = { chunks: 0 };
  async function* generate() {
    for (let i = 0; i < count; i++) {
      pulled.chunks++;
      yield randomBytes(size);
    }
  }
  return { pulled, generate };
}

describe("abort", () => {
  it("an already-aborted signal fails with ABORTED before any KMS call", async () => {
    const { kek, calls } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const signal = AbortSignal.abort();
    expect(await outcome(() => throughNode(encryptStream({ keyring, signal }), [randomBytes(10)]))).toEqual({
      code: "ABORTED",
    });
    expect(await outcome(() => throughWeb(encryptWebStream({ keyring, signal }), [randomBytes(10)]))).toEqual(
      { code: "ABORTED" },
    );
    expect(calls).toEqual({ wrap: 0, unwrap: 0 });
  });

  it("aborting mid-stream stops a Node decrypt with ABORTED and zeroes the DEK", async () => {
    const { kek, seen } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(randomBytes(64 * 1024), { keyring, frameLength: 1024 });
    const controller = new AbortController();
    const stream = decryptStream({ keyring, signal: controller.signal });
    const done = outcome(async () => {
      for await (const _chunk of stream) controller.abort();
      return new Uint8Array();
    });
    stream.write(envelope.subarray(0, 10_000));
    expect(await done).toEqual({ code: "ABORTED" });
    expect(stream.destroyed).toBe(true);
    expect(seen.length).toBeGreaterThan(0);
    for (const dek of seen) expect(isZero(dek)).toBe(true);
  });

  it("aborting mid-stream errors a Web decrypt with ABORTED", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(randomBytes(64 * 1024), { keyring, frameLength: 1024 });
    const controller = new AbortController();
    const transform = decryptWebStream({ keyring, signal: controller.signal });
    const reader = transform.readable.getReader();
    const writer = transform.writable.getWriter();
    void writer.write(envelope.subarray(0, 10_000)).catch(() => {});
    await reader.read();
    controller.abort();
    expect(await outcome(async () => (await reader.read()).value ?? new Uint8Array())).toEqual({
      code: "ABORTED",
    });
  });

  it("the body sealer and opener zero the plaintext they hold on dispose", () => {
    const frameKey = createSecretKey(randomBytes(32));
    const messageId = randomBytes(32);
    const sealer = new BodySealer(frameKey, messageId, 16);
    const sealed: Uint8Array[] = [];
    sealer.push(Buffer.alloc(10, 7), (chunk) => sealed.push(chunk));
    const held = (sealer as unknown as { pending: Buffer }).pending;
    expect(held.subarray(0, 10)).toEqual(Buffer.alloc(10, 7));
    sealer.dispose();
    expect(isZero(held)).toBe(true);

    const complete = new BodySealer(frameKey, messageId, 16);
    complete.push(Buffer.alloc(10, 7), (chunk) => sealed.push(chunk));
    complete.finish((chunk) => sealed.push(chunk));
    const opener = new BodyOpener(frameKey, messageId, 16, 1000);
    // The final frame verifies, but its plaintext waits for finish() to confirm nothing trails it.
    opener.push(Buffer.concat(sealed), () => expect.fail("nothing may be released before finish"));
    const waiting = [...(opener as unknown as { parts: Buffer[] }).parts];
    expect(Buffer.concat(waiting)).toEqual(Buffer.alloc(10, 7));
    opener.dispose();
    expect(waiting.every(isZero)).toBe(true);
  });

  it("encrypt zeroes the DEK once the header is sealed", async () => {
    const { kek, seen } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    await throughNode(encryptStream({ keyring }), [randomBytes(100)]);
    expect(seen).toHaveLength(1);
    expect(isZero(seen[0]!)).toBe(true);
  });
});

describe("back-pressure", () => {
  it("a Node encryptStream nobody reads stops pulling its source", async () => {
    const { kek } = createMemoryKek();
    const { pulled, generate } = countingSource(1000, 1024);
    const stream = encryptStream({ keyring: createKeyring({ primary: kek }), frameLength: 1024 });
    Readable.from(generate()).pipe(stream);
    await sleep(200);
    expect(pulled.chunks).toBeGreaterThan(0);
    expect(pulled.chunks).toBeLessThan(100);
    stream.destroy();
  });

  it("a Web decryptWebStream nobody reads stops pulling its source", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(randomBytes(1024 * 1024), { keyring, frameLength: 1024 });
    let pulls = 0;
    const source = new ReadableStream<Uint8Array>(
      {
        pull(controller) {
          const at = pulls++ * 1024;
          if (at >= envelope.length) controller.close();
          else controller.enqueue(envelope.subarray(at, at + 1024));
        },
      },
      { highWaterMark: 0 },
    );
    const readable = source.pipeThrough(decryptWebStream({ keyring }));
    await sleep(200);
    expect(pulls).toBeGreaterThan(0);
    expect(pulls).toBeLessThan(100);
    await readable.cancel();
  });
});
