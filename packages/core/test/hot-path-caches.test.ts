import { describe, expect, it } from "vitest";
import { freezeContext } from "../src/context.js";
import { secureRandom } from "../src/crypto/random.js";
import { encodeWrappedKeys } from "../src/format/header.js";
import { createKeyring, decrypt, type EncryptionContext, encrypt, isEnvelopeError } from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

/** The per-message shortcuts of docs/performance.md must never change what a message means. */
describe("context reuse (freezeContext finds a recent frozen copy by content)", () => {
  it("the same content in a fresh object gets the same frozen, canonical copy", () => {
    const first = freezeContext({ tenant: "acme", purpose: "x" });
    const second = freezeContext({ purpose: "x", tenant: "acme" });
    expect(Object.isFrozen(first.context)).toBe(true);
    expect(Object.keys(first.context)).toEqual(["purpose", "tenant"]);
    expect(second.context).toEqual(first.context);
    expect(Buffer.from(second.bytes).equals(Buffer.from(first.bytes))).toBe(true);
  });

  it("contexts whose pairs would run together if joined naively stay apart", () => {
    const pairs: EncryptionContext[] = [
      { "a\u0000b": "c" },
      { a: "b\u0000c" },
      { ab: "c" },
      { a: "bc" },
      { "1:a1:b": "" },
      { a: "b" },
      { a: "b", c: "" },
    ];
    const seen = new Map<string, string>();
    for (const context of pairs) {
      for (let round = 0; round < 2; round++) {
        const { context: frozen, bytes } = freezeContext(context);
        expect(frozen).toEqual(context);
        const hex = Buffer.from(bytes).toString("hex");
        expect(seen.get(hex) ?? JSON.stringify(context)).toBe(JSON.stringify(context));
        seen.set(hex, JSON.stringify(context));
      }
    }
    expect(seen.size).toBe(pairs.length);
  });

  it("a cached context does not make a similar invalid one valid", () => {
    freezeContext({ n: "1" });
    for (const bad of [{ n: 1 }, { n: { length: 1, toString: () => "1" } }, { "": "1" }]) {
      let code: string | undefined;
      try {
        freezeContext(bad as unknown as EncryptionContext);
      } catch (error) {
        code = isEnvelopeError(error) ? error.code : "untyped";
      }
      expect(code).toBe("INVALID_ARGUMENT");
    }
  });

  it("changing the caller's object after a call changes the next message, not the last one", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const context: Record<string, string> = { stage: "one" };
    const first = await encrypt(Buffer.from("1"), { keyring, context });
    context.stage = "two";
    const second = await encrypt(Buffer.from("2"), { keyring, context });
    expect((await decrypt(first, { keyring })).header.context).toEqual({ stage: "one" });
    expect((await decrypt(second, { keyring })).header.context).toEqual({ stage: "two" });
  });

  it("a getter that changes is never answered with an older frozen copy", () => {
    let reads = 0;
    const context = {
      get stage() {
        reads++;
        return `read-${reads}`;
      },
    };
    const results = [freezeContext(context), freezeContext(context)];
    for (const { context: frozen, bytes } of results) {
      expect(Buffer.from(bytes).includes(Buffer.from(frozen.stage!))).toBe(true);
    }
    expect(results[0]!.context.stage).not.toBe(results[1]!.context.stage);
  });
});

describe("pooled CSPRNG (crypto/random.ts)", () => {
  it("small draws across several pool refills never repeat", () => {
    const seen = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const draw = new Uint8Array(i % 2 === 0 ? 32 : 12);
      secureRandom(draw);
      const hex = Buffer.from(draw).toString("hex");
      expect(seen.has(hex)).toBe(false);
      seen.add(hex);
      expect(draw.some((byte) => byte !== 0)).toBe(true);
    }
  });

  it("large draws bypass the pool and are filled in full", () => {
    const draw = new Uint8Array(10_000);
    secureRandom(draw);
    // 10,000 random bytes with a run of 64 zeros would be a 2^-512 event: a fill that stopped early.
    for (let at = 0; at + 64 <= draw.length; at += 64) {
      expect(draw.subarray(at, at + 64).some((byte) => byte !== 0)).toBe(true);
    }
  });
});

describe("wrapped-key list encoding (entry heads cached per provider and key id)", () => {
  it("an invalid provider id or key id is rejected every time, not only the first", () => {
    const wrapped = new Uint8Array(60);
    for (let round = 0; round < 2; round++) {
      expect(() => encodeWrappedKeys([{ provider: "Bad_Provider", keyId: "k", wrapped }])).toThrow(
        /provider id/,
      );
      expect(() => encodeWrappedKeys([{ provider: "local", keyId: "", wrapped }])).toThrow(/key id/);
      expect(() => encodeWrappedKeys([{ provider: "local", keyId: "\ud800", wrapped }])).toThrow(/key id/);
    }
  });

  it("the same provider and key id encode to the same bytes with each wrapped key after them", () => {
    const a = encodeWrappedKeys([{ provider: "local", keyId: "k1", wrapped: Uint8Array.of(1, 2) }]);
    const b = encodeWrappedKeys([
      { provider: "local", keyId: "k1", wrapped: Uint8Array.of(3) },
      { provider: "aws-kms", keyId: "k1", wrapped: Uint8Array.of(4, 5, 6) },
    ]);
    expect(Buffer.from(a).toString("hex")).toBe("0001056c6f63616c00026b3100020102");
    expect(Buffer.from(b).toString("hex")).toBe(
      "0002056c6f63616c00026b31000103076177732d6b6d7300026b310003040506",
    );
  });
});
