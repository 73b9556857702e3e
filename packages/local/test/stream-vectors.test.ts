import { readFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import {
  createKeyring,
  DEFAULT_LIMITS,
  decrypt,
  decryptStream,
  decryptWebStream,
  type EncryptionContext,
  isEnvelopeError,
  type Limits,
  rewrap,
  rewrapStream,
} from "@kms-envelope/core";
import { decodeHeader } from "@kms-envelope/core/format";
import { describe, expect, it } from "vitest";
import { createLocalKek } from "../src/index.js";

/** The shared vectors (schema: test-vectors/README.md), read straight from the repository. */
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

function keyringFor(names: readonly string[]) {
  const keks = names.map((name) => {
    const key = manifest.keys.find((candidate) => candidate.name === name)!;
    return createLocalKek({ key: Buffer.from(key.key, "hex"), keyId: key.keyId });
  });
  const [primary, ...extra] = keks;
  return createKeyring({ primary, extra });
}

function chunked(bytes: Uint8Array, size: number): Buffer[] {
  const chunks: Buffer[] = [];
  for (let at = 0; at < bytes.length; at += size) chunks.push(Buffer.from(bytes.subarray(at, at + size)));
  return chunks;
}

type Outcome = { plaintext: string } | { code: string };

async function outcome(run: () => Promise<Uint8Array>): Promise<Outcome> {
  try {
    return { plaintext: Buffer.from(await run()).toString("hex") };
  } catch (error) {
    if (isEnvelopeError(error)) return { code: error.code };
    throw error;
  }
}

async function viaNode(options: Parameters<typeof decryptStream>[0], chunks: Buffer[]): Promise<Buffer> {
  const out: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      out.push(chunk);
      callback();
    },
  });
  await pipeline(Readable.from(chunks), decryptStream(options), sink);
  return Buffer.concat(out);
}

async function viaWeb(options: Parameters<typeof decryptWebStream>[0], chunks: Buffer[]): Promise<Buffer> {
  const source = ReadableStream.from(chunks);
  const out: Uint8Array[] = [];
  for await (const chunk of source.pipeThrough(decryptWebStream(options))) out.push(chunk);
  return Buffer.concat(out);
}

const CHUNK_SIZES = [1, 3, 17, 64, 4096];

/** Vector ids each describe block actually ran, checked against the manifest at the end. */
const ran = { decrypt: new Set<string>(), rewrap: new Set<string>() };
const armoredTextIds = manifest.negative
  .filter((vector) => vector.armored === true)
  .map((vector) => vector.id);
/** Every vector but the armored-text negatives: streams (and rewrap) take bytes. */
const expectedIds = [
  ...manifest.positive.map((vector) => vector.id),
  ...manifest.negative.filter((vector) => vector.armored !== true).map((vector) => vector.id),
].sort();

describe("decryptStream agrees with decrypt on every shared vector", () => {
  it.each(manifest.positive.map((vector) => [vector.id, vector] as const))(
    "positive %s",
    async (_id, vector) => {
      const envelope = Buffer.from(vector.envelope, "hex");
      const keyring = keyringFor(vector.keys);
      const options = { keyring, expectedContext: vector.context };
      const reference = await outcome(async () => (await decrypt(envelope, options)).plaintext);
      expect(reference).toEqual({ plaintext: vector.plaintext });
      ran.decrypt.add(vector.id);
      for (const size of CHUNK_SIZES) {
        expect({ size, node: await outcome(() => viaNode(options, chunked(envelope, size))) }).toEqual({
          size,
          node: reference,
        });
        expect({ size, web: await outcome(() => viaWeb(options, chunked(envelope, size))) }).toEqual({
          size,
          web: reference,
        });
      }
    },
  );

  // Streams carry binary envelopes; the armored vectors test the text form, which only the buffer API reads.
  const binary = manifest.negative.filter((vector) => vector.armored !== true);
  it.each(binary.map((vector) => [vector.id, vector] as const))("negative %s", async (_id, vector) => {
    const envelope = Buffer.from(vector.envelope, "hex");
    const options = {
      keyring: keyringFor(vector.decrypt.keys),
      expectedContext: vector.decrypt.expectedContext,
      limits: vector.decrypt.limits,
    };
    const reference = await outcome(async () => (await decrypt(envelope, options)).plaintext);
    expect(reference).toEqual({ code: vector.code });
    ran.decrypt.add(vector.id);
    for (const size of CHUNK_SIZES) {
      expect({ size, node: await outcome(() => viaNode(options, chunked(envelope, size))) }).toEqual({
        size,
        node: reference,
      });
      expect({ size, web: await outcome(() => viaWeb(options, chunked(envelope, size))) }).toEqual({
        size,
        web: reference,
      });
    }
  });

  // Runs after the vectors above (tests in a file run in order): each one must have got through.
  it("covers every binary vector in the manifest", () => {
    expect([...ran.decrypt].sort()).toEqual(expectedIds);
    // What is left out is exactly the armored text the stream cannot be handed as a string.
    expect(expectedIds.length + armoredTextIds.length).toBe(
      manifest.positive.length + manifest.negative.length,
    );
  });
});

const fresh = createLocalKek({ key: Buffer.alloc(32, 0x42), keyId: "rewrap-target" });
const freshKeyring = createKeyring({ primary: fresh });

async function codeOf(run: () => Promise<unknown>): Promise<string | undefined> {
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

async function rewrapViaStream(
  envelope: Uint8Array,
  options: Parameters<typeof rewrapStream>[0],
): Promise<Buffer> {
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
        await rewrapViaStream(envelope, options),
      ]) {
        expect(fixedParts(rewrapped)).toBe(fixedParts(envelope));
        const opened = await decrypt(rewrapped, { keyring: freshKeyring, expectedContext: vector.context });
        expect(Buffer.from(opened.plaintext).toString("hex")).toBe(vector.plaintext);
        expect(await codeOf(() => decrypt(rewrapped, { keyring: keyringFor(vector.keys) }))).toBe(
          "NO_USABLE_KEY",
        );
      }
      ran.rewrap.add(vector.id);
    },
  );

  // Rewrap checks the header as decrypt does (same code), never the body; what it lets
  // through must still fail decrypt with the vector's code: it never repairs an envelope.
  const binary = manifest.negative.filter((vector) => vector.armored !== true);
  it.each(binary.map((vector) => [vector.id, vector] as const))("negative %s", async (_id, vector) => {
    const envelope = Buffer.from(vector.envelope, "hex");
    const { keys, expectedContext, limits } = vector.decrypt;
    let rewrapped: Uint8Array | undefined;
    const failure = await codeOf(async () => {
      rewrapped = (
        await rewrap(envelope, { from: keyringFor(keys), to: freshKeyring, expectedContext, limits })
      ).envelope;
    });
    if (failure !== undefined) {
      expect(failure).toBe(vector.code);
    } else {
      expect(
        await codeOf(() => decrypt(rewrapped!, { keyring: freshKeyring, expectedContext, limits })),
      ).toBe(vector.code);
    }
    ran.rewrap.add(vector.id);
  });

  it("covers every binary vector in the manifest", () => {
    expect([...ran.rewrap].sort()).toEqual(expectedIds);
  });
});
