import { readFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  createKeyring,
  DEFAULT_LIMITS,
  decrypt,
  type EncryptionContext,
  isEnvelopeError,
  type Limits,
  rewrap,
  rewrapStream,
} from "@kms-envelope/core";
import { decodeHeader } from "@kms-envelope/core/format";
import { describe, expect, it } from "vitest";
import { createLocalKek } from "../src/index.js";

interface Manifest {
  keys: { name: string; keyId: string; key: string }[];
  positive: { id: string; keys: string[]; context: EncryptionContext; plaintext: string; envelope: string }[];
  negative: {
    id: string;
    envelope: string;
    armored?: boolean;
    code: string;
    decrypt: { keys: string[]; expectedContext?: EncryptionContext; limits?: Partial<Limits> };
  }[];
}

const manifest = JSON.parse(
  readFileSync(new URL("../../../test-vectors/manifest.json", import.meta.url), "utf8"),
) as Manifest;

const kekFor = (name: string) => {
  const key = manifest.keys.find((candidate) => candidate.name === name)!;
  return createLocalKek({ key: Buffer.from(key.key, "hex"), keyId: key.keyId });
};
const keyringFor = (names: readonly string[]) => {
  const [primary, ...extra] = names.map(kekFor);
  return createKeyring({ primary, extra });
};
const fresh = createLocalKek({ key: Buffer.alloc(32, 0x42), keyId: "rewrap-target" });
const freshKeyring = createKeyring({ primary: fresh });

async function code(run: () => Promise<unknown>): Promise<string | undefined> {
  try {
    await run();
    return undefined;
  } catch (error) {
    if (isEnvelopeError(error)) return error.code;
    throw error;
  }
}

/** What rewrap must leave alone: the authenticated header, the header tag and the body. */
function fixedParts(envelope: Uint8Array) {
  const header = decodeHeader(envelope, DEFAULT_LIMITS);
  return Buffer.concat([
    header.authenticatedBytes,
    header.headerTag,
    envelope.subarray(header.length),
  ]).toString("hex");
}

async function viaStream(envelope: Uint8Array, options: Parameters<typeof rewrapStream>[0]): Promise<Buffer> {
  const out: Buffer[] = [];
  const chunks: Buffer[] = [];
  for (let at = 0; at < envelope.length; at += 7) chunks.push(Buffer.from(envelope.subarray(at, at + 7)));
  await pipeline(
    Readable.from(chunks),
    rewrapStream(options),
    new Writable({
      write(chunk: Buffer, _encoding, callback) {
        out.push(chunk);
        callback();
      },
    }),
  );
  return Buffer.concat(out);
}

describe("rewrap on the shared vectors", () => {
  it.each(manifest.positive.map((vector) => [vector.id, vector] as const))(
    "positive %s",
    async (_id, vector) => {
      const envelope = Buffer.from(vector.envelope, "hex");
      const options = { from: keyringFor(vector.keys), to: freshKeyring, expectedContext: vector.context };
      for (const rewrapped of [
        (await rewrap(envelope, options)).envelope,
        await viaStream(envelope, options),
      ]) {
        expect(fixedParts(rewrapped)).toBe(fixedParts(envelope));
        const opened = await decrypt(rewrapped, { keyring: freshKeyring, expectedContext: vector.context });
        expect(Buffer.from(opened.plaintext).toString("hex")).toBe(vector.plaintext);
        expect(await code(() => decrypt(rewrapped, { keyring: keyringFor(vector.keys) }))).toBe(
          "NO_USABLE_KEY",
        );
      }
    },
  );

  // Rewrap checks the header as decrypt does (same code), never the body; what it lets
  // through must still fail decrypt with the vector's code: it never repairs an envelope.
  const binary = manifest.negative.filter((vector) => vector.armored !== true);
  it.each(binary.map((vector) => [vector.id, vector] as const))("negative %s", async (_id, vector) => {
    const envelope = Buffer.from(vector.envelope, "hex");
    const { keys, expectedContext, limits } = vector.decrypt;
    let rewrapped: Uint8Array | undefined;
    const failure = await code(async () => {
      rewrapped = (
        await rewrap(envelope, { from: keyringFor(keys), to: freshKeyring, expectedContext, limits })
      ).envelope;
    });
    if (failure !== undefined) {
      expect(failure).toBe(vector.code);
      return;
    }
    expect(await code(() => decrypt(rewrapped!, { keyring: freshKeyring, expectedContext, limits }))).toBe(
      vector.code,
    );
  });
});
