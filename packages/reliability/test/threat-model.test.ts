import { randomBytes } from "node:crypto";
import {
  createKeyring,
  decrypt,
  EnvelopeError,
  encrypt,
  inspect,
  type KeyEncryptionKey,
  rewrap,
} from "@kms-envelope/core";
import { createLocalKek } from "@kms-envelope/local";
import { describe, expect, it } from "vitest";

/**
 * The adversaries of docs/security.md that are about what the format does
 * NOT promise, shown rather than asserted in prose.
 */
const context = { tenant: "acme" };
const k1 = createLocalKek({ key: randomBytes(32), keyId: "k1" });
const k2 = createLocalKek({ key: randomBytes(32), keyId: "k2" });

/** The first wrapped-key entry of `envelope` made by `keyId`, as the bytes a KEK returned. */
async function entryOf(
  envelope: Uint8Array,
  kek: KeyEncryptionKey,
): Promise<{ dek: Uint8Array; wrapped: Uint8Array }> {
  let seen: { dek: Uint8Array; wrapped: Uint8Array } | undefined;
  const spy: KeyEncryptionKey = {
    provider: kek.provider,
    keyId: kek.keyId,
    wrap: (dek, ctx, options) => kek.wrap(dek, ctx, options),
    async unwrap(entry, ctx, options) {
      const dek = await kek.unwrap(entry, ctx, options);
      seen = { dek: Uint8Array.from(dek), wrapped: Uint8Array.from(entry.wrapped) };
      return dek;
    },
  };
  await decrypt(envelope, { keyring: createKeyring({ primary: spy }) });
  return seen!;
}

describe("no writer authenticity", () => {
  it("anyone who can wrap under a KEK makes envelopes that decrypt under it, with any plaintext and context", async () => {
    const forged = await encrypt(Buffer.from("not from the usual writer"), {
      keyring: createKeyring({ primary: k1 }),
      context: { tenant: "acme", author: "anyone" },
    });
    const { plaintext } = await decrypt(forged, { keyring: createKeyring({ primary: k1 }) });
    expect(Buffer.from(plaintext).toString()).toBe("not from the usual writer");
  });

  it("a holder of one of two KEKs forges a new envelope, same context, that the other KEK's holder opens", async () => {
    const original = await encrypt(Buffer.from("the real message"), {
      keyring: createKeyring({ primary: k1, extra: [k2] }),
      context,
    });
    // The adversary holds k1 only: it unwraps the DEK, and copies k2's wrapped entry byte for byte.
    const { dek } = await entryOf(original, k1);
    const k2Entry = await entryOf(original, k2); // (run by the test to find k2's bytes; the adversary reads them from the envelope)
    const replay: KeyEncryptionKey = {
      provider: k2.provider,
      keyId: k2.keyId,
      async wrap() {
        return { keyId: k2.keyId, wrapped: k2Entry.wrapped };
      },
      async unwrap() {
        throw new EnvelopeError("KMS_ERROR", "the adversary cannot unwrap with k2");
      },
      async generateDataKey() {
        return { plaintext: Uint8Array.from(dek), keyId: k2.keyId, wrapped: k2Entry.wrapped };
      },
    };
    const forged = await encrypt(Buffer.from("a forged message"), {
      keyring: createKeyring({ primary: replay }),
      context,
    });
    const opened = await decrypt(forged, {
      keyring: createKeyring({ primary: k2 }),
      expectedContext: context,
    });
    expect(Buffer.from(opened.plaintext).toString()).toBe("a forged message");
  });
});

describe("key commitment", () => {
  it("an envelope whose two wrapped keys hold two different DEKs opens only with the DEK its commitment names; the other is TAMPERED (key-commitment)", async () => {
    const a = await encrypt(Buffer.from("message A"), { keyring: createKeyring({ primary: k1 }), context });
    const b = await encrypt(Buffer.from("message B"), { keyring: createKeyring({ primary: k2 }), context });
    const k2OfB = await entryOf(b, k2);
    // Add to A an entry for k2 that wraps B's DEK, not A's: what an adversary holding both keys would try.
    const planted: KeyEncryptionKey = {
      provider: k2.provider,
      keyId: k2.keyId,
      async wrap() {
        return { keyId: k2.keyId, wrapped: k2OfB.wrapped };
      },
      unwrap: (entry, ctx, options) => k2.unwrap(entry, ctx, options),
    };
    const { envelope: twoFaced } = await rewrap(a, {
      from: createKeyring({ primary: k1 }),
      to: { add: [planted] },
    });
    expect(inspect(twoFaced).wrappedKeys.map((entry) => entry.keyId)).toEqual(["k1", "k2"]);
    expect(
      Buffer.from(
        (await decrypt(twoFaced, { keyring: createKeyring({ primary: k1 }) })).plaintext,
      ).toString(),
    ).toBe("message A");
    const failure = await decrypt(twoFaced, { keyring: createKeyring({ primary: k2 }) }).catch(
      (error: unknown) => error,
    );
    expect(failure).toBeInstanceOf(EnvelopeError);
    expect((failure as EnvelopeError).code).toBe("TAMPERED");
    expect((failure as EnvelopeError).message).toMatch(/^key-commitment/);
  });
});
