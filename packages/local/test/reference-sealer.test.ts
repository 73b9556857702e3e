import { randomBytes, randomInt } from "node:crypto";
import { createKeyring, decrypt, inspect } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
// @ts-expect-error: the reference sealer is plain JavaScript
import { referenceLocalWrap, referenceSeal } from "../../../test-vectors/reference-sealer.mjs";
import { createLocalKek } from "../src/index.js";

// Known answers from outside the code: envelopes laid out by test-vectors/reference-sealer.mjs
// (written from docs/format.md and docs/providers/local.md with plain node:crypto) on random
// inputs must decrypt with core and the local KEK. generate.mjs checks the other direction:
// core's encoder produces the reference's bytes for every positive vector.

function randomText(): string {
  const pool = ["a", "Z", "é", "日", "🔐", "\ufeff", "-", "0", " "];
  return Array.from({ length: randomInt(0, 6) }, () => pool[randomInt(pool.length)]).join("");
}

describe("reference sealer → core", () => {
  it("200 random envelopes (contexts, frame lengths, sizes, 1 to 3 wrapped keys) decrypt to their plaintext", async () => {
    for (let round = 0; round < 200; round++) {
      const context: Record<string, string> = {};
      for (let i = randomInt(0, 4); i > 0; i--) context[`k${randomText()}`] = randomText();
      const keys = Array.from({ length: randomInt(1, 4) }, (_, i) => ({
        key: randomBytes(32),
        keyId: `ref-${round}-${i}-${randomText()}`,
      }));
      const dek = randomBytes(32);
      const plaintext = randomBytes(randomInt(0, 300));
      const frameLength = randomInt(1, 70);
      const envelope: Buffer = referenceSeal({
        dek,
        messageId: randomBytes(32),
        context,
        frameLength,
        plaintext,
        wrappedKeys: keys.map(({ key, keyId }) => ({
          provider: "local",
          keyId,
          wrapped: referenceLocalWrap({ key, keyId, nonce: randomBytes(12), dek, context }),
        })),
      });
      // Any one of the keys opens it: try the last.
      const last = keys.at(-1)!;
      const keyring = createKeyring({ decryptOnly: [createLocalKek({ key: last.key, keyId: last.keyId })] });
      const result = await decrypt(envelope, { keyring, expectedContext: context });
      expect(Buffer.from(result.plaintext).equals(plaintext)).toBe(true);
      expect(inspect(envelope).wrappedKeys.map((entry) => entry.keyId)).toEqual(keys.map((k) => k.keyId));
    }
  });
});
