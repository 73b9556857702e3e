import { describe, expect, it } from "vitest";
import { createDataKeyCache, createKeyring, decrypt, encrypt, type KmsEvent, rewrap } from "../src/index.js";
import { createScriptedKek } from "./support/scripted-kek.js";

/** Every encoding a secret could leak in: raw (latin1 of the bytes), hex, base64, base64url. */
function encodings(secret: Uint8Array): string[] {
  const buffer = Buffer.from(secret);
  return [
    buffer.toString("latin1"),
    buffer.toString("hex"),
    buffer.toString("base64"),
    buffer.toString("base64url"),
  ].map((text) => (text.length > 24 ? text.slice(4, 28) : text));
}

describe("onEvent never carries key material, a DEK or plaintext", () => {
  it("scans every event of a busy session (cache, retries, failover, hedging, skips, evictions)", async () => {
    const events: KmsEvent[] = [];
    const onEvent = (event: KmsEvent) => events.push(event);
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const c = createScriptedKek("c");
    const cache = createDataKeyCache({
      encrypt: { maxAgeMs: 60_000, maxMessages: 2, maxBytes: 1 << 20, capacity: 2 },
      decrypt: { ttlMs: 60_000, capacity: 2 },
      onEvent,
    });
    const keyring = createKeyring({
      primary: a.kek,
      extra: [b.kek, c.kek],
      cache,
      kms: {
        callTimeoutMs: 200,
        retry: { maxAttempts: 2, baseDelayMs: 1 },
        rateLimit: { requestsPerSecond: 1000, burst: 3 },
        hedgeAfterMs: 20,
        unreachableExtras: "skip",
      },
      onEvent,
    });
    const plaintexts = Array.from({ length: 6 }, (_, i) =>
      Buffer.from(`secret plaintext number ${i} ${"z".repeat(i * 7)}`),
    );
    a.next({ fail: "KMS_THROTTLED" });
    c.next({ fail: "KMS_UNAVAILABLE" }, { fail: "KMS_UNAVAILABLE" });
    const envelopes: Uint8Array[] = [];
    for (const [i, plaintext] of plaintexts.entries()) {
      envelopes.push(await encrypt(plaintext, { keyring, context: { n: String(i % 2) } }));
    }
    a.next({ fail: "KMS_UNAVAILABLE" }, { fail: "KMS_UNAVAILABLE" }, { delayMs: 60 });
    for (const envelope of envelopes) await decrypt(envelope, { keyring });
    await rewrap(envelopes[0]!, { from: keyring, to: { add: [createScriptedKek("d").kek] } });
    cache.dispose();

    const types = new Set(events.map((event) => event.type));
    for (const type of [
      "kek.wrap",
      "kek.unwrap",
      "cache.hit",
      "cache.miss",
      "cache.evict",
      "retry",
      "failover",
      "kek.skipped",
    ]) {
      expect(types).toContain(type);
    }
    const secrets = [...a.deks, ...b.deks, ...c.deks, ...plaintexts, a.kekKey, b.kekKey, c.kekKey];
    expect(a.deks.length).toBeGreaterThan(0);
    for (const event of events) {
      const text = JSON.stringify(event);
      for (const value of Object.values(event)) {
        expect(typeof value === "string" || typeof value === "number" || typeof value === "boolean").toBe(
          true,
        );
      }
      for (const secret of secrets)
        for (const encoded of encodings(secret)) expect(text).not.toContain(encoded);
    }
  });
});

describe("rewrap reports its KMS calls", () => {
  it("KEKs given in add run under the source keyring's guard: kek.reencrypt and kek.wrap events", async () => {
    const events: KmsEvent[] = [];
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const envelope = await encrypt(Buffer.from("x"), {
      keyring: createKeyring({ primary: a.kek }),
      context: {},
    });
    // A KEK of another provider that can re-encrypt nothing here (its reencrypt answers undefined).
    const reencrypting = { ...b.kek, provider: "memory", reencrypt: async () => undefined };
    const from = createKeyring({ primary: a.kek, kms: {}, onEvent: (event) => events.push(event) });
    await rewrap(envelope, { from, to: { add: [reencrypting] } });
    expect(events.map((event) => [event.type, event.keyId])).toEqual([
      ["kek.reencrypt", "b"],
      ["kek.unwrap", "a"],
      ["kek.wrap", "b"],
    ]);
  });
});
