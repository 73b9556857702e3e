import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createKeyring,
  decrypt,
  EnvelopeError,
  encrypt,
  encryptStream,
  type KeyEncryptionKey,
  rewrap,
  rewrapStream,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { chunked, throughNode } from "./support/stream-helpers.js";

// docs/security.md: every DEK buffer core receives from or hands to a KEK is zero afterwards.
// encrypt-decrypt.test.ts covers wrap and unwrap; these cover GenerateDataKey and rewrap.
const isZero = (buffer: Uint8Array) => buffer.every((byte) => byte === 0);

/** A memory KEK that also offers generateDataKey, recording every DEK it returned. */
function generatingKek(keyId = "generating") {
  const inner = createMemoryKek(keyId);
  const generated: Uint8Array[] = [];
  const kek: KeyEncryptionKey = {
    ...inner.kek,
    async generateDataKey(context, options) {
      const plaintext = randomBytes(32);
      const { wrapped } = await inner.kek.wrap(Buffer.from(plaintext), context, options);
      generated.push(plaintext);
      return { keyId, wrapped, plaintext };
    },
  };
  return { kek, generated, seen: inner.seen };
}

describe("DEK zeroing on the GenerateDataKey path", () => {
  it("encrypt zeroes the DEK generateDataKey returned, and the copies handed to extra KEKs", async () => {
    const primary = generatingKek();
    const extra = createMemoryKek("extra");
    const keyring = createKeyring({ primary: primary.kek, extra: [extra.kek] });
    const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring });
    expect(primary.generated).toHaveLength(1);
    expect(isZero(primary.generated[0]!)).toBe(true);
    expect(extra.seen).toHaveLength(1);
    expect(isZero(extra.seen[0]!)).toBe(true);
    // Still the right key: the envelope opens.
    expect([...(await decrypt(envelope, { keyring })).plaintext]).toEqual([1, 2, 3]);
  });

  it("encryptStream zeroes it too", async () => {
    const primary = generatingKek();
    const keyring = createKeyring({ primary: primary.kek });
    await throughNode(encryptStream({ keyring, frameLength: 4 }), chunked(new Uint8Array(10), 3));
    expect(primary.generated).toHaveLength(1);
    expect(isZero(primary.generated[0]!)).toBe(true);
  });

  it("encrypt zeroes the generated DEK when an extra KEK then fails to wrap", async () => {
    const primary = generatingKek();
    const failing: KeyEncryptionKey = {
      provider: "memory",
      keyId: "failing",
      wrap: async () => {
        throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      },
      unwrap: async () => {
        throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      },
    };
    const keyring = createKeyring({ primary: primary.kek, extra: [failing] });
    await expect(encrypt(new Uint8Array(3), { keyring })).rejects.toMatchObject({ code: "KMS_UNAVAILABLE" });
    expect(isZero(primary.generated[0]!)).toBe(true);
  });
});

describe("DEK zeroing on the rewrap path", () => {
  async function sealed() {
    const source = createMemoryKek("source");
    const envelope = await encrypt(new Uint8Array([4, 5, 6]), {
      keyring: createKeyring({ primary: source.kek }),
    });
    source.seen.length = 0;
    return { source, envelope };
  }

  it("rewrap zeroes the unwrapped DEK and the buffer handed to each new KEK", async () => {
    const { source, envelope } = await sealed();
    const target = createMemoryKek("target");
    const result = await rewrap(envelope, {
      from: createKeyring({ primary: source.kek }),
      to: createKeyring({ primary: target.kek }),
    });
    expect(result.unwrapped).toBe(true);
    expect(source.seen).toHaveLength(1);
    expect(target.seen).toHaveLength(1);
    for (const buffer of [...source.seen, ...target.seen]) expect(isZero(buffer)).toBe(true);
    const opened = await decrypt(result.envelope, { keyring: createKeyring({ primary: target.kek }) });
    expect([...opened.plaintext]).toEqual([4, 5, 6]);
  });

  it("rewrapStream zeroes them too", async () => {
    const { source, envelope } = await sealed();
    const target = createMemoryKek("target");
    await throughNode(
      rewrapStream({ from: createKeyring({ primary: source.kek }), to: { add: [target.kek] } }),
      chunked(envelope, 5),
    );
    expect(source.seen.length + target.seen.length).toBe(2);
    for (const buffer of [...source.seen, ...target.seen]) expect(isZero(buffer)).toBe(true);
  });

  it("rewrap zeroes the DEK when the new KEK fails to wrap", async () => {
    const { source, envelope } = await sealed();
    const handed: Uint8Array[] = [];
    const failing: KeyEncryptionKey = {
      provider: "memory",
      keyId: "failing",
      wrap: async (dek) => {
        handed.push(dek);
        throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      },
      unwrap: async () => {
        throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      },
    };
    await expect(
      rewrap(envelope, { from: createKeyring({ primary: source.kek }), to: { add: [failing] } }),
    ).rejects.toMatchObject({ code: "KMS_UNAVAILABLE" });
    expect(source.seen).toHaveLength(1);
    expect(handed).toHaveLength(1);
    for (const buffer of [...source.seen, ...handed]) expect(isZero(buffer)).toBe(true);
  });
});
