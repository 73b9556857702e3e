import { readFileSync } from "node:fs";
import { fromHex, type VectorManifest } from "@kms-envelope/conformance";
import { armor, createKeyring, dearmor, decrypt, EnvelopeError, inspect } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
// @ts-expect-error: the generator is plain JavaScript
import { generateManifest, serialize } from "../../../test-vectors/generate.mjs";
import { createLocalKek } from "../src/index.js";

const manifestPath = new URL("../../../test-vectors/manifest.json", import.meta.url);
const committed = readFileSync(manifestPath, "utf8");
const manifest = JSON.parse(committed) as VectorManifest;

function keyringFor(names: readonly string[]) {
  const keks = names.map((name) => {
    const key = manifest.keys.find((candidate) => candidate.name === name)!;
    return createLocalKek({ key: fromHex(key.key), keyId: key.keyId });
  });
  return createKeyring({ decryptOnly: keks });
}

describe("test vectors", () => {
  it("the committed manifest is exactly what the code generates", async () => {
    const generated = serialize(await generateManifest());
    expect(generated === committed, "test-vectors/manifest.json is stale: run `pnpm vectors`").toBe(true);
  });

  it("has at least 25 positive and 80 negative vectors", () => {
    expect(manifest.positive.length).toBeGreaterThanOrEqual(25);
    expect(manifest.negative.length).toBeGreaterThanOrEqual(80);
  });

  it.each(manifest.positive.map((vector) => [vector.id, vector] as const))(
    "positive %s decrypts to its plaintext",
    async (_id, vector) => {
      const input = vector.armored ?? fromHex(vector.envelope);
      const result = await decrypt(input, {
        keyring: keyringFor(vector.keys),
        expectedContext: vector.context,
      });
      expect(Buffer.from(result.plaintext).toString("hex")).toBe(vector.plaintext);
      expect(result.header.frameLength).toBe(vector.frameLength);
      expect(result.header.messageId).toBe(vector.messageId);
      expect(inspect(input).wrappedKeys.map((entry) => entry.keyId)).toEqual(
        vector.keys.map((name) => manifest.keys.find((key) => key.name === name)!.keyId),
      );
    },
  );

  const armoredPositives = manifest.positive.filter((vector) => vector.armored !== undefined);
  it.each(armoredPositives.map((vector) => [vector.id, vector] as const))(
    "positive %s: one canonical armored text, and every accepted variant (string or bytes) decodes to it",
    async (_id, vector) => {
      expect(armor(fromHex(vector.envelope))).toBe(vector.armored);
      expect(vector.armoredAccepted?.length).toBeGreaterThan(0);
      for (const variant of vector.armoredAccepted ?? []) {
        for (const input of [variant, Buffer.from(variant, "latin1")]) {
          expect(Buffer.from(dearmor(input)).toString("hex")).toBe(vector.envelope);
          const result = await decrypt(input, {
            keyring: keyringFor(vector.keys),
            expectedContext: vector.context,
          });
          expect(Buffer.from(result.plaintext).toString("hex")).toBe(vector.plaintext);
        }
      }
    },
  );

  it.each(
    manifest.negative.map((vector) => [`${vector.id} → ${vector.code} (${vector.check})`, vector] as const),
  )("negative %s", async (_title, vector) => {
    const input = vector.armored ? vector.envelope : fromHex(vector.envelope);
    const error = await decrypt(input, {
      keyring: keyringFor(vector.decrypt.keys),
      expectedContext: vector.decrypt.expectedContext,
      limits: vector.decrypt.limits,
    }).then(
      () => undefined,
      (caught: unknown) => caught,
    );
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).code).toBe(vector.code);
    expect((error as EnvelopeError).message.startsWith(vector.check) || vector.check === vector.code).toBe(
      true,
    );
  });
});
