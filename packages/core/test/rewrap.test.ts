import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decodeHeader } from "../src/format/header.js";
import {
  createKeyring,
  decrypt,
  encrypt,
  type KeyEncryptionKey,
  rewrap,
  rewrapStream,
  rewrapWebStream,
} from "../src/index.js";
import { DEFAULT_LIMITS } from "../src/limits.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { outcome } from "./support/outcome.js";
import { chunked, throughNode, throughWeb } from "./support/stream-helpers.js";

const context = { tenant: "acme" };
const plaintext = randomBytes(1000);

async function fixture() {
  const a = createMemoryKek("key-a");
  const b = createMemoryKek("key-b");
  const c = createMemoryKek("key-c");
  const envelope = await encrypt(plaintext, {
    keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
    context,
    frameLength: 100,
  });
  for (const { calls } of [a, b, c]) Object.assign(calls, { wrap: 0, unwrap: 0 });
  return { a, b, c, envelope };
}

const only = (kek: KeyEncryptionKey) => createKeyring({ primary: kek });

async function opens(envelope: Uint8Array, kek: KeyEncryptionKey) {
  return outcome(
    async () => (await decrypt(envelope, { keyring: only(kek), expectedContext: context })).plaintext,
  );
}

/** Authenticated header part, header tag and body of an envelope: everything rewrap must not change. */
function fixedParts(envelope: Uint8Array) {
  const header = decodeHeader(envelope, DEFAULT_LIMITS);
  return {
    authenticated: Buffer.from(header.authenticatedBytes).toString("hex"),
    tag: Buffer.from(header.headerTag).toString("hex"),
    body: Buffer.from(envelope.subarray(header.length)).toString("hex"),
  };
}

describe("rewrap", () => {
  it("adds a KEK with one unwrap and one wrap, copying the header tag and body byte for byte", async () => {
    const { a, c, envelope } = await fixture();
    const result = await rewrap(envelope, { from: only(a.kek), to: { add: [c.kek] } });
    expect(a.calls).toEqual({ wrap: 0, unwrap: 1 });
    expect(c.calls).toEqual({ wrap: 1, unwrap: 0 });
    expect(fixedParts(result.envelope)).toEqual(fixedParts(envelope));
    expect(result.added).toEqual([{ provider: "memory", keyId: "key-c" }]);
    expect(result.kept.map((id) => id.keyId)).toEqual(["key-a", "key-b"]);
    expect(await opens(result.envelope, c.kek)).toEqual({ plaintext: plaintext.toString("hex") });
    expect(await opens(result.envelope, a.kek)).toEqual({ plaintext: plaintext.toString("hex") });
  });

  it("removes a KEK: the result no longer opens with it, and still opens with the rest", async () => {
    const { a, b, envelope } = await fixture();
    const result = await rewrap(envelope, { from: only(b.kek), to: { remove: [a.kek] } });
    expect(result.removed).toEqual([{ provider: "memory", keyId: "key-a" }]);
    expect(await opens(result.envelope, a.kek)).toEqual({ code: "NO_USABLE_KEY" });
    expect(await opens(result.envelope, b.kek)).toEqual({ plaintext: plaintext.toString("hex") });
    expect(fixedParts(result.envelope)).toEqual(fixedParts(envelope));
  });

  it("replaces the whole list with a target keyring (the CLI's --to A --remove B in one go)", async () => {
    const { a, b, c, envelope } = await fixture();
    const result = await rewrap(envelope, { from: only(a.kek), to: createKeyring({ primary: c.kek }) });
    expect(result.kept).toEqual([]);
    expect(await opens(result.envelope, c.kek)).toEqual({ plaintext: plaintext.toString("hex") });
    expect(await opens(result.envelope, a.kek)).toEqual({ code: "NO_USABLE_KEY" });
    expect(await opens(result.envelope, b.kek)).toEqual({ code: "NO_USABLE_KEY" });
  });

  it("re-adding a KEK replaces its own entry (rotation) instead of duplicating it", async () => {
    const { a, envelope } = await fixture();
    const result = await rewrap(envelope, { from: only(a.kek), to: { add: [a.kek] } });
    expect(decodeHeader(result.envelope, DEFAULT_LIMITS).wrappedKeys.map((entry) => entry.keyId)).toEqual([
      "key-b",
      "key-a",
    ]);
    expect(await opens(result.envelope, a.kek)).toEqual({ plaintext: plaintext.toString("hex") });
  });

  it("uses the provider's reencrypt where it has one: no unwrap, no wrap", async () => {
    const { a, c, envelope } = await fixture();
    let reencryptCalls = 0;
    const reencrypting: KeyEncryptionKey = {
      ...c.kek,
      // Stands in for a KMS ReEncrypt: the DEK moves between keys inside the "KMS".
      async reencrypt(entry, entryContext) {
        reencryptCalls++;
        if (entry.keyId !== "key-a") return undefined;
        const dek = await a.kek.unwrap(entry, entryContext);
        const wrapped = await c.kek.wrap(dek, entryContext);
        dek.fill(0);
        return wrapped;
      },
    };
    Object.assign(a.calls, { unwrap: 0 });
    Object.assign(c.calls, { wrap: 0 });
    const counted = { unwrap: 0 };
    const fromA: KeyEncryptionKey = {
      ...a.kek,
      async unwrap(...args) {
        counted.unwrap++;
        return a.kek.unwrap(...args);
      },
    };
    const result = await rewrap(envelope, {
      from: only(fromA),
      to: { add: [reencrypting], remove: [fromA] },
    });
    expect(reencryptCalls).toBe(1);
    expect(counted.unwrap).toBe(0);
    expect(result).toMatchObject({ reencrypted: 1, unwrapped: false });
    expect(await opens(result.envelope, c.kek)).toEqual({ plaintext: plaintext.toString("hex") });
  });

  it("falls back to unwrap and wrap when reencrypt declines", async () => {
    const { a, c, envelope } = await fixture();
    const declining: KeyEncryptionKey = { ...c.kek, reencrypt: async () => undefined };
    const result = await rewrap(envelope, { from: only(a.kek), to: { add: [declining] } });
    expect(result).toMatchObject({ reencrypted: 0, unwrapped: true });
    expect(a.calls.unwrap).toBe(1);
    expect(await opens(result.envelope, c.kek)).toEqual({ plaintext: plaintext.toString("hex") });
  });

  it("refuses a remove that matches nothing, an empty change, removing every key, and a list over the limit", async () => {
    const { a, c, envelope } = await fixture();
    const from = only(a.kek);
    expect(
      await outcome(async () => (await rewrap(envelope, { from, to: { remove: [c.kek] } })).envelope),
    ).toEqual({
      code: "INVALID_ARGUMENT",
    });
    expect(await outcome(async () => (await rewrap(envelope, { from, to: {} })).envelope)).toEqual({
      code: "INVALID_ARGUMENT",
    });
    const removeAll = { remove: [a.kek, { provider: "memory", keyId: "key-b" }] };
    expect(await outcome(async () => (await rewrap(envelope, { from, to: removeAll })).envelope)).toEqual({
      code: "INVALID_ARGUMENT",
    });
    const limits = { maxWrappedKeys: 2 };
    expect(
      await outcome(async () => (await rewrap(envelope, { from, to: { add: [c.kek] }, limits })).envelope),
    ).toEqual({
      code: "LIMIT_EXCEEDED",
    });
  });

  it("checks the envelope before wrapping its DEK anew: wrong context, tampered commitment, no usable key", async () => {
    const { a, b, c, envelope } = await fixture();
    const to = { add: [c.kek] };
    const wrongContext = await outcome(
      async () =>
        (await rewrap(envelope, { from: only(a.kek), to, expectedContext: { tenant: "other" } })).envelope,
    );
    expect(wrongContext).toEqual({ code: "CONTEXT_MISMATCH" });
    const header = decodeHeader(envelope, DEFAULT_LIMITS);
    const tampered = Buffer.from(envelope);
    tampered[header.authenticatedBytes.length - 1]! ^= 1; // last byte of the commitment
    expect(await outcome(async () => (await rewrap(tampered, { from: only(a.kek), to })).envelope)).toEqual({
      code: "TAMPERED",
    });
    const stranger = createMemoryKek("key-a").kek; // same id, different key material
    expect(
      await outcome(async () => (await rewrap(envelope, { from: only(stranger), to })).envelope),
    ).toEqual({
      code: "NO_USABLE_KEY",
    });
    expect(c.calls.wrap).toBe(0);
    void b;
  });

  it("rewrapStream and rewrapWebStream give a header the same shape and the body unchanged, in any chunking", async () => {
    const { a, c, envelope } = await fixture();
    for (const size of [1, 13, 4096]) {
      const node = rewrapStream({ from: only(a.kek), to: { add: [c.kek], remove: [a.kek] } });
      const nodeOut = await throughNode(node, chunked(envelope, size));
      const web = rewrapWebStream({ from: only(a.kek), to: { add: [c.kek], remove: [a.kek] } });
      const webOut = await throughWeb(web, chunked(envelope, size));
      for (const out of [nodeOut, webOut]) {
        expect(fixedParts(out)).toEqual(fixedParts(envelope));
        expect(await opens(out, c.kek)).toEqual({ plaintext: plaintext.toString("hex") });
        expect(await opens(out, a.kek)).toEqual({ code: "NO_USABLE_KEY" });
      }
      expect((await node.report).removed).toEqual([{ provider: "memory", keyId: "key-a" }]);
      expect((await web.report).added).toEqual([{ provider: "memory", keyId: "key-c" }]);
    }
  });

  it("rewrapStream fails as MALFORMED when the input ends inside the header", async () => {
    const { a, c, envelope } = await fixture();
    const stream = rewrapStream({ from: only(a.kek), to: { add: [c.kek] } });
    expect(await outcome(() => throughNode(stream, [envelope.subarray(0, 50)]))).toEqual({
      code: "MALFORMED",
    });
    await expect(stream.report).rejects.toMatchObject({ code: "MALFORMED" });
  });
});
