import { describe, expect, it } from "vitest";
import { createKeyring, decrypt, encrypt, inspect, type KmsEvent } from "../src/index.js";
import { createScriptedKek, failure, isZero } from "./support/scripted-kek.js";

const context = { tenant: "acme" };
const hello = () => Buffer.from("hello");
const collect = () => {
  const events: KmsEvent[] = [];
  return { events, onEvent: (event: KmsEvent) => events.push(event) };
};

describe("deadlines enforced by core", () => {
  it("a KEK that never answers and ignores the signal fails the call as KMS_UNAVAILABLE at callTimeoutMs", async () => {
    const a = createScriptedKek("a");
    a.next({ hang: true });
    const keyring = createKeyring({ primary: a.kek, kms: { callTimeoutMs: 50 } });
    const error = await failure(encrypt(hello(), { keyring, context }));
    expect(error.code).toBe("KMS_UNAVAILABLE");
    expect(error.message).toMatch(/deadline: memory wrap with a did not answer within 50 ms/);
  });

  it("the overall deadline ends the operation as ABORTED, naming the deadline", async () => {
    const a = createScriptedKek("a");
    const envelope = await encrypt(hello(), { keyring: createKeyring({ primary: a.kek }), context });
    a.next({ hang: true });
    const keyring = createKeyring({ primary: a.kek, kms: { deadlineMs: 60 } });
    const error = await failure(decrypt(envelope, { keyring }));
    expect(error.code).toBe("ABORTED");
    expect(error.message).toMatch(/deadline: the operation did not finish within 60 ms/);
  });

  it("the caller's own signal still aborts, with ABORTED", async () => {
    const a = createScriptedKek("a");
    a.next({ hang: true });
    const controller = new AbortController();
    const keyring = createKeyring({ primary: a.kek, kms: { deadlineMs: 10_000 } });
    const pending = failure(encrypt(hello(), { keyring, context, signal: controller.signal }));
    controller.abort();
    expect((await pending).code).toBe("ABORTED");
  });

  it("a DEK that arrives after the call timed out is zeroed", async () => {
    const a = createScriptedKek("a");
    const envelope = await encrypt(hello(), { keyring: createKeyring({ primary: a.kek }), context });
    a.next({ delayMs: 60 });
    const keyring = createKeyring({ primary: a.kek, kms: { callTimeoutMs: 20 } });
    expect((await failure(decrypt(envelope, { keyring }))).failures[0]!.error.code).toBe("KMS_UNAVAILABLE");
    await new Promise((resolve) => setTimeout(resolve, 80));
    expect(a.returned.length).toBe(1);
    expect(isZero(a.returned[0]!)).toBe(true);
  });
});

describe("retries", () => {
  it("retries KMS_UNAVAILABLE with full jitter and reports each retry", async () => {
    const a = createScriptedKek("a");
    a.next({ fail: "KMS_UNAVAILABLE" }, { fail: "KMS_THROTTLED" });
    const { events, onEvent } = collect();
    const keyring = createKeyring({
      primary: a.kek,
      kms: { retry: { maxAttempts: 3, baseDelayMs: 10 } },
      onEvent,
    });
    await encrypt(hello(), { keyring, context });
    expect(a.calls.wrap).toBe(3);
    const retries = events.filter((e) => e.type === "retry");
    expect(retries.map((e) => [e.attempt, e.code, e.retryAfter])).toEqual([
      [2, "KMS_UNAVAILABLE", false],
      [3, "KMS_THROTTLED", false],
    ]);
    // Full jitter: uniform below the cap (10 ms, then 20 ms).
    expect(retries[0]!.delayMs).toBeLessThan(10);
    expect(retries[1]!.delayMs).toBeLessThan(20);
    expect(
      events.filter((e) => e.type === "kek.wrap").map((e) => (e as { outcome: string }).outcome),
    ).toEqual(["KMS_UNAVAILABLE", "KMS_THROTTLED", "ok"]);
  });

  it("waits exactly the service's Retry-After", async () => {
    const a = createScriptedKek("a");
    a.next({ fail: "KMS_THROTTLED", retryAfterMs: 120 });
    const { events, onEvent } = collect();
    const keyring = createKeyring({ primary: a.kek, kms: { retry: { baseDelayMs: 1 } }, onEvent });
    const started = performance.now();
    await encrypt(hello(), { keyring, context });
    expect(performance.now() - started).toBeGreaterThanOrEqual(115);
    expect(events.find((e) => e.type === "retry")).toMatchObject({ delayMs: 120, retryAfter: true });
  });

  it("does not retry other codes, nor past maxAttempts, nor once the budget is spent", async () => {
    const a = createScriptedKek("a");
    a.next({ fail: "KEY_ACCESS_DENIED" });
    const keyring = createKeyring({
      primary: a.kek,
      kms: { retry: { maxAttempts: 5, baseDelayMs: 1, budget: { tokens: 2, ratio: 0 } } },
    });
    expect((await failure(encrypt(hello(), { keyring, context }))).code).toBe("KEY_ACCESS_DENIED");
    expect(a.calls.wrap).toBe(1);
    a.next(...Array(5).fill({ fail: "KMS_UNAVAILABLE" }));
    expect((await failure(encrypt(hello(), { keyring, context }))).code).toBe("KMS_UNAVAILABLE");
    // Two retries were all the budget had.
    expect(a.calls.wrap).toBe(4);
  });

  it("does not start a retry whose Retry-After passes the deadline", async () => {
    const a = createScriptedKek("a");
    a.next({ fail: "KMS_THROTTLED", retryAfterMs: 5_000 });
    const keyring = createKeyring({ primary: a.kek, kms: { deadlineMs: 500, retry: {} } });
    const started = performance.now();
    expect((await failure(encrypt(hello(), { keyring, context }))).code).toBe("KMS_THROTTLED");
    expect(performance.now() - started).toBeLessThan(400);
    expect(a.calls.wrap).toBe(1);
  });
});

describe("rate limit per KEK", () => {
  it("queues calls beyond the burst and fails fast (KMS_THROTTLED) when the wait passes the deadline", async () => {
    const a = createScriptedKek("a");
    const { events, onEvent } = collect();
    const keyring = createKeyring({
      primary: a.kek,
      kms: { rateLimit: { requestsPerSecond: 10, burst: 2 }, deadlineMs: 1000 },
      onEvent,
    });
    const started = performance.now();
    const outcomes = await Promise.all(
      Array.from({ length: 20 }, () =>
        encrypt(hello(), { keyring, context }).then(
          () => "ok",
          (error: { code: string }) => error.code,
        ),
      ),
    );
    const elapsedS = (performance.now() - started) / 1000;
    // 2 at once, then one per 100 ms: call k waits (k − 2) × 100 ms, so calls 12-20 would wait past
    // the 1 s deadline and fail at once; a call delayed past it by a busy machine ends ABORTED.
    const ok = outcomes.filter((outcome) => outcome === "ok").length;
    expect(ok).toBeLessThanOrEqual(2 + Math.ceil(10 * elapsedS));
    expect(ok).toBeGreaterThanOrEqual(5);
    expect(outcomes.filter((outcome) => outcome === "KMS_THROTTLED").length).toBeGreaterThanOrEqual(7);
    expect(outcomes.every((outcome) => ["ok", "KMS_THROTTLED", "ABORTED"].includes(outcome))).toBe(true);
    // Every success made a call; a call still in flight at the deadline ends ABORTED.
    expect(a.calls.wrap).toBeGreaterThanOrEqual(ok);
    expect(a.calls.wrap).toBeLessThanOrEqual(ok + outcomes.filter((outcome) => outcome === "ABORTED").length);
    expect(events.filter((e) => e.type === "rate-limited").length).toBe(18);
  });
});

describe("multi-KEK decrypt", () => {
  it("fails over to the next allowed KEK on KMS_UNAVAILABLE, KMS_THROTTLED or a call timeout", async () => {
    const keks = [
      createScriptedKek("a"),
      createScriptedKek("b"),
      createScriptedKek("c"),
      createScriptedKek("d"),
    ];
    const [a, b, c, d] = keks as [(typeof keks)[0], (typeof keks)[0], (typeof keks)[0], (typeof keks)[0]];
    const envelope = await encrypt(hello(), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek, c.kek, d.kek] }),
      context,
    });
    a.next({ fail: "KMS_UNAVAILABLE" });
    b.next({ fail: "KMS_THROTTLED" });
    c.next({ hang: true });
    const { events, onEvent } = collect();
    const keyring = createKeyring({
      decryptOnly: [a.kek, b.kek, c.kek, d.kek],
      kms: { callTimeoutMs: 50 },
      onEvent,
    });
    const result = await decrypt(envelope, { keyring });
    expect(result.unwrappedWith.keyId).toBe("d");
    expect(events.filter((e) => e.type === "failover").map((e) => [e.keyId, e.code])).toEqual([
      ["a", "KMS_UNAVAILABLE"],
      ["b", "KMS_THROTTLED"],
      ["c", "KMS_UNAVAILABLE"],
    ]);
  });

  it("hedging starts the next KEK after hedgeAfterMs; the first DEK wins and the slow call is cancelled", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const envelope = await encrypt(hello(), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
      context,
    });
    a.next({ delayMs: 300 });
    const { events, onEvent } = collect();
    const keyring = createKeyring({ decryptOnly: [a.kek, b.kek], kms: { hedgeAfterMs: 30 }, onEvent });
    const started = performance.now();
    const result = await decrypt(envelope, { keyring });
    expect(performance.now() - started).toBeLessThan(250);
    expect(result.unwrappedWith.keyId).toBe("b");
    expect(a.signals.at(-1)?.aborted).toBe(true);
    expect(events.find((e) => e.type === "failover")).toMatchObject({ reason: "hedge", keyId: "a" });
    // The loser's DEK, arriving late, is zeroed.
    await new Promise((resolve) => setTimeout(resolve, 320));
    expect(isZero(a.returned.at(-1)!)).toBe(true);
  });

  it("hedging reports a failover only when another KEK was started: a slow last KEK is not a failover", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const envelope = await encrypt(hello(), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
      context,
    });
    a.next({ delayMs: 400 });
    b.next({ delayMs: 120 });
    const { events, onEvent } = collect();
    const keyring = createKeyring({ decryptOnly: [a.kek, b.kek], kms: { hedgeAfterMs: 30 }, onEvent });
    const result = await decrypt(envelope, { keyring });
    expect(result.unwrappedWith.keyId).toBe("b");
    // b runs past hedgeAfterMs too, but nothing is left to start: one failover (a → b), not two.
    expect(events.filter((e) => e.type === "failover")).toEqual([
      expect.objectContaining({ reason: "hedge", keyId: "a" }),
    ]);
  });

  it("without hedging the second KEK is not called while the first answers", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const envelope = await encrypt(hello(), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
      context,
    });
    a.next({ delayMs: 60 });
    const keyring = createKeyring({ decryptOnly: [a.kek, b.kek], kms: { callTimeoutMs: 1000 } });
    expect((await decrypt(envelope, { keyring })).unwrappedWith.keyId).toBe("a");
    expect(b.calls.unwrap).toBe(0);
  });
});

describe("multi-KEK encrypt when an extra KEK is unreachable", () => {
  it("fails by default", async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    b.next({ fail: "KMS_UNAVAILABLE" });
    const keyring = createKeyring({ primary: a.kek, extra: [b.kek], kms: {} });
    expect((await failure(encrypt(hello(), { keyring, context }))).code).toBe("KMS_UNAVAILABLE");
  });

  it('"skip" makes the envelope with the reachable KEKs, reports the skipped one, and never caches it', async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const c = createScriptedKek("c");
    b.next({ fail: "KMS_UNAVAILABLE" });
    const { events, onEvent } = collect();
    const { createDataKeyCache } = await import("../src/index.js");
    const keyring = createKeyring({
      primary: a.kek,
      extra: [b.kek, c.kek],
      kms: { unreachableExtras: "skip" },
      cache: createDataKeyCache({ encrypt: { maxAgeMs: 60_000, maxMessages: 100, maxBytes: 1 << 20 } }),
      onEvent,
    });
    const envelope = await encrypt(hello(), { keyring, context });
    expect(inspect(envelope).wrappedKeys.map((entry) => entry.keyId)).toEqual(["a", "c"]);
    expect(events.filter((e) => e.type === "kek.skipped")).toEqual([
      { type: "kek.skipped", provider: "memory", keyId: "b", code: "KMS_UNAVAILABLE" },
    ]);
    // The next message is not stuck without b: a fresh DEK, wrapped by all three.
    const next = await encrypt(hello(), { keyring, context });
    expect(inspect(next).wrappedKeys.map((entry) => entry.keyId)).toEqual(["a", "b", "c"]);
    expect(a.calls.wrap).toBe(2);
  });

  it('"skip" never skips for other failures (access denied fails the encrypt)', async () => {
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    b.next({ fail: "KEY_ACCESS_DENIED" });
    const keyring = createKeyring({ primary: a.kek, extra: [b.kek], kms: { unreachableExtras: "skip" } });
    expect((await failure(encrypt(hello(), { keyring, context }))).code).toBe("KEY_ACCESS_DENIED");
  });
});

describe("options are validated", () => {
  it.each([
    [{ callTimeoutMs: -1 }],
    [{ deadlineMs: Number.NaN }],
    [{ rateLimit: { requestsPerSecond: 0 } }],
    [{ rateLimit: { requestsPerSecond: 5, burst: 0.5 } }],
    [{ retry: { maxAttempts: 0 } }],
    [{ unreachableExtras: "maybe" }],
  ])("%j → INVALID_ARGUMENT", (kms) => {
    const a = createScriptedKek("a");
    expect(() => createKeyring({ primary: a.kek, kms: kms as never })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("rewrap under the source keyring's deadline", () => {
  it("a target KEK that never answers ends the rewrap as ABORTED at deadlineMs", async () => {
    const { rewrap } = await import("../src/index.js");
    const a = createScriptedKek("a");
    const b = createScriptedKek("b");
    const envelope = await encrypt(hello(), { keyring: createKeyring({ primary: a.kek }), context });
    b.next({ hang: true });
    const from = createKeyring({ primary: a.kek, kms: { deadlineMs: 80 } });
    const error = await failure(rewrap(envelope, { from, to: { add: [b.kek] } }));
    expect(error.code).toBe("ABORTED");
    expect(error.message).toMatch(/deadline: the operation did not finish within 80 ms/);
  });
});

describe("the guard around a KEK", () => {
  it("keeps provider, key id, matching and close() of the KEK it guards", async () => {
    const a = createScriptedKek("a");
    let closed = 0;
    const kek = {
      ...a.kek,
      matches: (entry: { provider: string; keyId: string }) => entry.keyId.startsWith("a"),
      close: async () => {
        closed++;
      },
    };
    const keyring = createKeyring({ primary: kek, kms: { callTimeoutMs: 1000 } });
    const guarded = keyring.primary!;
    expect(guarded).not.toBe(kek);
    expect([guarded.provider, guarded.keyId]).toEqual(["memory", "a"]);
    expect(await guarded.matches!({ provider: "memory", keyId: "a/v2" })).toBe(true);
    await guarded.close!();
    expect(closed).toBe(1);
    // Without any economy option the keyring holds the KEK itself.
    expect(createKeyring({ primary: kek }).primary).toBe(kek);
  });
});
