import { describe, expect, it } from "vitest";
import { decodeHeader, encodeWrappedKeys } from "../src/format/index.js";
import {
  createDataKeyCache,
  createKeyring,
  DEFAULT_LIMITS,
  decrypt,
  encrypt,
  type KmsEvent,
} from "../src/index.js";
import { prepareMessage, sealMessage } from "../src/testing.js";
import { createScriptedKek, failure, isZero } from "./support/scripted-kek.js";

const context = { tenant: "acme" };
const decryptCache = (ttlMs = 60_000, capacity = 100) => createDataKeyCache({ decrypt: { ttlMs, capacity } });

/** `count` envelopes that share one DEK (made through an encrypt cache). */
async function sharedDekEnvelopes(kek: Parameters<typeof createKeyring>[0]["primary"], count: number) {
  const keyring = createKeyring({
    primary: kek,
    cache: createDataKeyCache({ encrypt: { maxAgeMs: 60_000, maxMessages: count, maxBytes: 1 << 30 } }),
  });
  const envelopes: Uint8Array[] = [];
  for (let i = 0; i < count; i++)
    envelopes.push(await encrypt(Buffer.from(`message ${i}`), { keyring, context }));
  return envelopes;
}

describe("decrypt-side data-key cache", () => {
  it("1,000 concurrent decrypts of envelopes sharing one DEK make exactly one unwrap call", async () => {
    const a = createScriptedKek("a");
    const envelopes = await sharedDekEnvelopes(a.kek, 1000);
    a.setDelay(20);
    const keyring = createKeyring({ primary: a.kek, cache: decryptCache() });
    const results = await Promise.all(envelopes.map((envelope) => decrypt(envelope, { keyring })));
    expect(a.calls.unwrap).toBe(1);
    expect(Buffer.from(results[999]!.plaintext).toString()).toBe("message 999");
    // And later ones are hits.
    await decrypt(envelopes[0]!, { keyring });
    expect(a.calls.unwrap).toBe(1);
  });

  it("serves a DEK only for the exact wrapped bytes and context it was unwrapped for", async () => {
    const a = createScriptedKek("a");
    const keyring = createKeyring({ primary: a.kek, cache: decryptCache() });
    const envelope = await encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: a.kek }), context });
    await decrypt(envelope, { keyring });
    expect(a.calls.unwrap).toBe(1);
    // The same DEK and wrapped bytes under another context: a valid envelope, but a new (exact) cache key.
    const header = decodeHeader(envelope, DEFAULT_LIMITS);
    const dek = a.deks.at(-1)!;
    const materials = await prepareMessage({
      keyring: createKeyring({ primary: a.kek }),
      context: { tenant: "other" },
    });
    const forged = sealMessage(
      {
        ...materials,
        dek: Buffer.from(dek),
        wrappedKeys: header.wrappedKeys,
        wrappedKeyList: encodeWrappedKeys(header.wrappedKeys),
      },
      Buffer.from("y"),
    );
    const error = await failure(decrypt(forged, { keyring }));
    expect(error.code).toBe("NO_USABLE_KEY");
    expect(error.failures[0]!.error.code).toBe("TAMPERED");
    expect(a.calls.unwrap).toBe(2);
  });

  it("is served only to a keyring that allows the KEK, even with the same partition", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const cache = decryptCache();
    const withA = createKeyring({ primary: a.kek, cache, cachePartition: "p" });
    const withB = createKeyring({ primary: b.kek, cache, cachePartition: "p" });
    const envelope = await encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: a.kek }), context });
    await decrypt(envelope, { keyring: withA });
    expect(cache.size.decrypt).toBe(1);
    expect((await failure(decrypt(envelope, { keyring: withB }))).code).toBe("NO_USABLE_KEY");
    expect(b.calls.unwrap).toBe(0);
  });

  it("a failure is shared by concurrent decrypts and not kept", async () => {
    const a = createScriptedKek("a");
    const [envelope] = await sharedDekEnvelopes(a.kek, 1);
    a.next({ delayMs: 20, fail: "KMS_UNAVAILABLE" });
    const keyring = createKeyring({ primary: a.kek, cache: decryptCache() });
    const errors = await Promise.all(
      Array.from({ length: 5 }, () => failure(decrypt(envelope!, { keyring }))),
    );
    expect(errors.map((e) => [e.code, e.failures[0]?.error.code])).toEqual(
      Array(5).fill(["NO_USABLE_KEY", "KMS_UNAVAILABLE"]),
    );
    expect(a.calls.unwrap).toBe(1);
    await decrypt(envelope!, { keyring });
    expect(a.calls.unwrap).toBe(2);
  });

  it("one waiter aborting leaves the others waiting; the call is cancelled only when all have left", async () => {
    const a = createScriptedKek("a");
    const [envelope] = await sharedDekEnvelopes(a.kek, 1);
    a.setDelay(50);
    const keyring = createKeyring({ primary: a.kek, cache: decryptCache() });
    const quitter = new AbortController();
    const first = failure(decrypt(envelope!, { keyring, signal: quitter.signal }));
    const second = decrypt(envelope!, { keyring });
    quitter.abort();
    expect((await first).code).toBe("ABORTED");
    expect(Buffer.from((await second).plaintext).toString()).toBe("message 0");
    expect(a.signals.at(-1)?.aborted).toBe(false);
    // Now one waiter alone leaves: the shared call's signal fires.
    const alone = new AbortController();
    const other = createKeyring({ primary: a.kek, cache: decryptCache() });
    const pending = failure(decrypt(envelope!, { keyring: other, signal: alone.signal }));
    await new Promise((resolve) => setTimeout(resolve, 5));
    alone.abort();
    expect((await pending).code).toBe("ABORTED");
    expect(a.signals.at(-1)?.aborted).toBe(true);
  });

  it("zeroes unwrapped DEKs on TTL expiry, LRU eviction and dispose", async () => {
    const events: KmsEvent[] = [];
    const a = createScriptedKek("a");
    const plain = createKeyring({ primary: a.kek });
    const envelopes = [
      await encrypt(Buffer.from("1"), { keyring: plain, context }),
      await encrypt(Buffer.from("2"), { keyring: plain, context }),
      await encrypt(Buffer.from("3"), { keyring: plain, context }),
    ];
    const cache = createDataKeyCache({ decrypt: { ttlMs: 40, capacity: 2 }, onEvent: (e) => events.push(e) });
    const keyring = createKeyring({ primary: a.kek, cache });
    await decrypt(envelopes[0]!, { keyring });
    await decrypt(envelopes[1]!, { keyring });
    const [first, second] = a.returned;
    expect(isZero(first!) || isZero(second!)).toBe(false);
    await decrypt(envelopes[2]!, { keyring }); // capacity 2: the least recently used (first) goes
    expect(isZero(first!)).toBe(true);
    expect(isZero(second!)).toBe(false);
    await new Promise((resolve) => setTimeout(resolve, 90));
    expect(isZero(second!)).toBe(true);
    expect(isZero(a.returned[2]!)).toBe(true);
    await decrypt(envelopes[0]!, { keyring });
    const again = a.returned[3]!;
    expect(isZero(again)).toBe(false);
    cache.dispose();
    expect(isZero(again)).toBe(true);
    expect(events.map((e) => (e.type === "cache.evict" ? e.reason : e.type))).toEqual([
      "capacity",
      "expired",
      "expired",
      "dispose",
    ]);
  });
});
