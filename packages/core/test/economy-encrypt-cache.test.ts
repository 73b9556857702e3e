import { describe, expect, it } from "vitest";
import { decodeHeader } from "../src/format/index.js";
import {
  createDataKeyCache,
  createKeyring,
  DEFAULT_LIMITS,
  decrypt,
  EnvelopeError,
  encrypt,
  inspect,
  type KmsEvent,
} from "../src/index.js";
import { createScriptedKek, failure, isZero } from "./support/scripted-kek.js";

const context = { tenant: "acme" };
const bytes = (n: number) => new Uint8Array(n).fill(7);
const encryptCache = (
  settings: Partial<{ maxAgeMs: number; maxMessages: number; maxBytes: number; capacity: number }>,
  now?: () => number,
) =>
  createDataKeyCache({
    encrypt: { maxAgeMs: 60_000, maxMessages: 1000, maxBytes: 1 << 30, ...settings },
    ...(now === undefined ? {} : { now }),
  });
const wrappedOf = (envelope: Uint8Array) =>
  Buffer.from(decodeHeader(envelope, DEFAULT_LIMITS).wrappedKeys[0]!.wrapped).toString("hex");

/** How many envelopes each DEK (told apart by its wrapped bytes) encrypted. */
function usesPerDek(envelopes: readonly Uint8Array[]): Map<string, number> {
  const uses = new Map<string, number>();
  for (const envelope of envelopes) uses.set(wrappedOf(envelope), (uses.get(wrappedOf(envelope)) ?? 0) + 1);
  return uses;
}

describe("encrypt-side data-key cache", () => {
  it("reuses one DEK for exactly maxMessages messages, each with its own message id", async () => {
    const a = createScriptedKek("a");
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({ maxMessages: 3 }) });
    const envelopes = [];
    for (let i = 0; i < 7; i++) envelopes.push(await encrypt(bytes(10), { keyring, context }));
    expect(a.calls.wrap).toBe(3);
    const groups = envelopes.map(wrappedOf);
    expect(groups.slice(0, 3).every((w) => w === groups[0])).toBe(true);
    expect(groups[3]).not.toBe(groups[2]);
    expect(groups.slice(3, 6).every((w) => w === groups[3])).toBe(true);
    expect(groups[6]).not.toBe(groups[5]);
    const ids = new Set(envelopes.map((e) => inspect(e).messageId));
    expect(ids.size).toBe(7);
    for (const envelope of envelopes) {
      const { plaintext } = await decrypt(envelope, { keyring: createKeyring({ primary: a.kek }) });
      expect(Buffer.from(plaintext).equals(Buffer.from(bytes(10)))).toBe(true);
    }
  });

  it("is exact under concurrency: 50 parallel encrypts with maxMessages 7 make 8 DEKs, none used more than 7 times", async () => {
    const a = createScriptedKek("a");
    a.setDelay(5);
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({ maxMessages: 7 }) });
    const envelopes = await Promise.all(
      Array.from({ length: 50 }, () => encrypt(bytes(1), { keyring, context })),
    );
    const uses = usesPerDek(envelopes);
    expect(Math.max(...uses.values())).toBeLessThanOrEqual(7);
    expect(uses.size).toBe(8);
    expect(a.calls.wrap).toBe(8);
  });

  it("counts bytes exactly: a message that fills maxBytes to the byte shares the DEK, one more byte does not", async () => {
    const a = createScriptedKek("a");
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({ maxBytes: 100 }) });
    const first = await encrypt(bytes(40), { keyring, context });
    const second = await encrypt(bytes(60), { keyring, context });
    const third = await encrypt(bytes(1), { keyring, context });
    expect(wrappedOf(second)).toBe(wrappedOf(first));
    expect(wrappedOf(third)).not.toBe(wrappedOf(first));
    expect(a.calls.wrap).toBe(2);
    // A message larger than maxBytes on its own gets a fresh DEK that is never cached.
    await encrypt(bytes(101), { keyring, context });
    await encrypt(bytes(1), { keyring, context });
    expect(a.calls.wrap).toBe(3);
  });

  it("counts bytes exactly under concurrency: 20 parallel 30-byte messages with maxBytes 100 make 7 DEKs", async () => {
    const a = createScriptedKek("a");
    a.setDelay(5);
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({ maxBytes: 100 }) });
    const envelopes = await Promise.all(
      Array.from({ length: 20 }, () => encrypt(bytes(30), { keyring, context })),
    );
    const uses = usesPerDek(envelopes);
    expect(Math.max(...uses.values())).toBe(3);
    expect(uses.size).toBe(7);
    expect(a.calls.wrap).toBe(7);
  });

  it("serves a DEK while younger than maxAgeMs and never at maxAgeMs", async () => {
    let now = 1000;
    const a = createScriptedKek("a");
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({ maxAgeMs: 500 }, () => now) });
    const first = await encrypt(bytes(1), { keyring, context });
    now = 1499;
    const second = await encrypt(bytes(1), { keyring, context });
    now = 1500;
    const third = await encrypt(bytes(1), { keyring, context });
    expect(wrappedOf(second)).toBe(wrappedOf(first));
    expect(wrappedOf(third)).not.toBe(wrappedOf(first));
    expect(a.calls.wrap).toBe(2);
  });

  it("partitions by keyring, by exact context, and by the caller's partition with the same KEKs", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const cache = encryptCache({});
    const one = createKeyring({ primary: a.kek, cache });
    const two = createKeyring({ primary: a.kek, cache });
    const e1 = await encrypt(bytes(1), { keyring: one, context });
    const e2 = await encrypt(bytes(1), { keyring: two, context });
    const e3 = await encrypt(bytes(1), { keyring: one, context: { tenant: "acme", x: "" } });
    expect(new Set([e1, e2, e3].map(wrappedOf)).size).toBe(3);
    const p1 = createKeyring({ primary: a.kek, cache, cachePartition: "svc" });
    const p2 = createKeyring({ primary: a.kek, cache, cachePartition: "svc" });
    const p3 = createKeyring({ primary: b.kek, cache, cachePartition: "svc" });
    const q1 = await encrypt(bytes(1), { keyring: p1, context });
    const q2 = await encrypt(bytes(1), { keyring: p2, context });
    const q3 = await encrypt(bytes(1), { keyring: p3, context });
    expect(wrappedOf(q2)).toBe(wrappedOf(q1));
    expect(inspect(q3).wrappedKeys[0]!.keyId).toBe("b");
    expect(a.calls.wrap).toBe(4);
    expect(b.calls.wrap).toBe(1);
  });

  it("streams (length unknown up front) bypass the encrypt cache", async () => {
    const { encryptStream } = await import("../src/index.js");
    const { throughNode } = await import("./support/stream-helpers.js");
    const a = createScriptedKek("a");
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({}) });
    await throughNode(encryptStream({ keyring, context }), [bytes(10)]);
    await throughNode(encryptStream({ keyring, context }), [bytes(10)]);
    expect(a.calls.wrap).toBe(2);
  });

  it("zeroes a cached DEK when it is used up, evicted, expired or disposed", async () => {
    const events: KmsEvent[] = [];
    const a = createScriptedKek("a");
    const cache = createDataKeyCache({
      encrypt: { maxAgeMs: 60_000, maxMessages: 2, maxBytes: 1 << 20, capacity: 1 },
      onEvent: (event) => events.push(event),
    });
    const keyring = createKeyring({ primary: a.kek, cache });
    // Exhausted: the second message uses the last of maxMessages.
    await encrypt(bytes(1), { keyring, context });
    const first = a.wrappedFrom[0]!;
    expect(isZero(first)).toBe(false);
    await encrypt(bytes(1), { keyring, context });
    expect(isZero(first)).toBe(true);
    // Capacity 1: a second partition evicts the first.
    await encrypt(bytes(1), { keyring, context });
    const second = a.wrappedFrom[1]!;
    await encrypt(bytes(1), { keyring, context: { other: "1" } });
    expect(isZero(second)).toBe(true);
    // Dispose: the one left.
    const third = a.wrappedFrom[2]!;
    expect(isZero(third)).toBe(false);
    cache[Symbol.dispose]();
    expect(isZero(third)).toBe(true);
    expect(cache.size.encrypt).toBe(0);
    expect(
      events.filter((e) => e.type === "cache.evict").map((e) => (e as { reason: string }).reason),
    ).toEqual(["exhausted", "capacity", "dispose"]);
    // After dispose every message makes its own KMS call again.
    await encrypt(bytes(1), { keyring, context });
    await encrypt(bytes(1), { keyring, context });
    expect(a.calls.wrap).toBe(5);
  });

  it("zeroes an entry when maxAgeMs passes, untouched (timer), and on asyncDispose", async () => {
    const a = createScriptedKek("a");
    const cache = createDataKeyCache({ encrypt: { maxAgeMs: 30, maxMessages: 100, maxBytes: 1000 } });
    await encrypt(bytes(1), { keyring: createKeyring({ primary: a.kek, cache }), context });
    const dek = a.wrappedFrom[0]!;
    expect(isZero(dek)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(isZero(dek)).toBe(true);
    expect(cache.size.encrypt).toBe(0);
    await encrypt(bytes(1), { keyring: createKeyring({ primary: a.kek, cache }), context });
    await cache[Symbol.asyncDispose]();
    expect(isZero(a.wrappedFrom[1]!)).toBe(true);
  });

  it("requires every bound, finite", () => {
    const bad = [
      { maxAgeMs: Number.POSITIVE_INFINITY, maxMessages: 1, maxBytes: 1 },
      { maxAgeMs: 1, maxMessages: 0, maxBytes: 1 },
      { maxAgeMs: 1, maxMessages: 1.5, maxBytes: 1 },
      { maxAgeMs: 1, maxMessages: 1 },
      { maxAgeMs: 1, maxMessages: 1, maxBytes: Number.NaN },
    ];
    for (const encrypt of bad) {
      expect(() => createDataKeyCache({ encrypt } as never)).toThrow(EnvelopeError);
      try {
        createDataKeyCache({ encrypt } as never);
      } catch (error) {
        expect((error as EnvelopeError).code).toBe("INVALID_ARGUMENT");
      }
    }
    expect(() => createDataKeyCache({})).toThrow(/encrypt and\/or decrypt/);
    expect(() => createKeyring({ primary: createScriptedKek("a").kek, cache: {} as never })).toThrow(
      /createDataKeyCache/,
    );
  });

  it("a failed KMS call is shared by the messages waiting for it, and not kept", async () => {
    const a = createScriptedKek("a");
    a.next({ delayMs: 20, fail: "KMS_UNAVAILABLE" });
    const keyring = createKeyring({ primary: a.kek, cache: encryptCache({}) });
    const results = await Promise.all(
      Array.from({ length: 5 }, () => failure(encrypt(bytes(1), { keyring, context }))),
    );
    expect(results.map((e) => e.code)).toEqual(Array(5).fill("KMS_UNAVAILABLE"));
    expect(a.calls.wrap).toBe(1);
    await encrypt(bytes(1), { keyring, context });
    expect(a.calls.wrap).toBe(2);
  });
});
