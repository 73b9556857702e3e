import { describe, expect, it } from "vitest";
import { decodeContext, encodeContext, fromUtf8Strict } from "../src/format/index.js";
import {
  ArmorDecoder,
  armor,
  createKeyring,
  dearmor,
  decrypt,
  decryptStream,
  EnvelopeError,
  encrypt,
  inspect,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";
import { outcome } from "./support/outcome.js";
import { throughNode } from "./support/stream-helpers.js";

const { kek } = createMemoryKek();
const keyring = createKeyring({ primary: kek });

/** The error's code and named check ("armor: …" → "armor"). */
async function failure(run: () => unknown): Promise<string> {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    const { code, message } = error as EnvelopeError;
    return `${code}/${message.slice(0, message.indexOf(":"))}`;
  }
  throw new Error("expected a failure");
}

async function envelopeOf(length: number): Promise<Uint8Array> {
  return encrypt(new Uint8Array(length), { keyring, frameLength: 16 });
}

describe("armored form: one canonical text (issue #10, defect 8)", () => {
  it("refuses non-zero unused bits in the last character (2- and 3-character tails)", async () => {
    for (const length of [1, 2, 3, 4, 5, 6]) {
      const text = armor(await envelopeOf(length));
      const tail = (text.length - "kmse1:".length) % 4;
      if (tail === 0) continue;
      const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
      const last = alphabet.indexOf(text.at(-1)!);
      // Every value of the unused bits but zero decodes (leniently) to the same bytes.
      for (let bits = 1; bits < (tail === 2 ? 16 : 4); bits++) {
        const variant = text.slice(0, -1) + alphabet[last | bits];
        expect(await failure(() => dearmor(variant))).toBe("MALFORMED/armor");
      }
      expect(Buffer.from(dearmor(text)).equals(Buffer.from(dearmor(`  ${text}\n`)))).toBe(true);
    }
  });

  it("accepts SP, HT, LF, CR before the prefix and anywhere after it; nothing else", async () => {
    const envelope = await envelopeOf(10);
    const text = armor(envelope);
    const body = text.slice("kmse1:".length);
    for (const variant of [` \t\r\n${text}`, `${text}\r\n`, `kmse1:\n${body.replace(/(.{5})/g, "$1 \t")}`]) {
      expect(Buffer.from(dearmor(variant)).equals(Buffer.from(envelope))).toBe(true);
    }
    for (const refused of [
      `kmse 1:${body}`,
      `k\nmse1:${body}`,
      `KMSE1:${body}`,
      `kmse2:${body}`,
      `\f${text}`,
      `kmse1:${body.slice(0, 4)}\f${body.slice(4)}`,
      `kmse1:${body.slice(0, 4)}\u00a0${body.slice(4)}`,
      `${text}=`,
      `kmse1:${body.slice(0, 4)}+${body.slice(5)}`,
    ]) {
      expect({ refused, outcome: await failure(() => dearmor(refused)) }).toEqual({
        refused,
        outcome: "MALFORMED/armor",
      });
    }
  });

  it("ArmorDecoder fed in pieces of any size agrees with dearmor, bytes and errors alike", async () => {
    const text = armor(await envelopeOf(21));
    const body = text.slice("kmse1:".length);
    const texts = [
      text,
      ` \t\r\n${text}\r\n`,
      `kmse1:\n${body.replace(/(.{5})/g, "$1 \t")}`,
      `kmse 1:${body}`,
      `km`,
      `${text}=`,
      `${text.slice(0, -1)}${text.at(-1) === "A" ? "B" : "A"}`,
      `kmse1:${body.slice(0, 4)}\f${body.slice(4)}`,
      `kmse1:${body}A`,
    ];
    const run = (pieces: string[]) => {
      try {
        const decoder = new ArmorDecoder();
        const parts = pieces.map((piece) => Buffer.from(decoder.push(piece)));
        return Buffer.concat([...parts, Buffer.from(decoder.finish())]).toString("hex");
      } catch (error) {
        return `${(error as EnvelopeError).code}: ${(error as EnvelopeError).message}`;
      }
    };
    for (const candidate of texts) {
      const expected = run([candidate]);
      let reference: string;
      try {
        reference = Buffer.from(dearmor(candidate)).toString("hex");
      } catch (error) {
        reference = `${(error as EnvelopeError).code}: ${(error as EnvelopeError).message}`;
      }
      expect(expected).toBe(reference);
      for (const size of [1, 2, 3, 5, 7, 64]) {
        const pieces = [];
        for (let at = 0; at < candidate.length; at += size) pieces.push(candidate.slice(at, at + size));
        expect({ size, candidate, outcome: run(pieces) }).toEqual({ size, candidate, outcome: reference });
      }
    }
  });

  it("tells binary from armored the same way in every entry point: 'kmse…' is armor, anything else binary", async () => {
    const text = armor(await envelopeOf(10)).replace("kmse1:", "kmse2:");
    const bytes = Buffer.from(text, "latin1");
    expect(await failure(() => dearmor(text))).toBe("MALFORMED/armor");
    expect(await failure(() => inspect(text))).toBe("MALFORMED/armor");
    expect(await failure(() => inspect(bytes))).toBe("MALFORMED/armor");
    expect(await failure(() => decrypt(text, { keyring }))).toBe("MALFORMED/armor");
    expect(await failure(() => decrypt(bytes, { keyring }))).toBe("MALFORMED/armor");
    // Streams take the binary form only: armored bytes are named as such, not as a bad magic.
    expect(await failure(() => throughNode(decryptStream({ keyring }), [bytes]))).toBe("MALFORMED/armor");
    const good = Buffer.from(armor(await envelopeOf(10)), "latin1");
    expect(await failure(() => throughNode(decryptStream({ keyring }), [good]))).toBe("MALFORMED/armor");
    // Not "kmse": binary, so a wrong first byte is the magic check.
    const binary = Buffer.from(await envelopeOf(10));
    binary[0] = 0x4a;
    expect(await failure(() => inspect(binary))).toBe("MALFORMED/magic");
    expect(await failure(() => decrypt(binary, { keyring }))).toBe("MALFORMED/magic");
  });
});

describe("UTF-8 of format bytes is strict and keeps a BOM (issue #10, defect 2)", () => {
  it("decodes a leading U+FEFF as part of the string", () => {
    const bytes = Uint8Array.of(0xef, 0xbb, 0xbf, 0x61);
    expect(fromUtf8Strict(bytes)).toBe("\ufeffa");
    expect(fromUtf8Strict(Uint8Array.of(0xff))).toBeUndefined();
  });

  it("'\\uFEFFa' and 'a' stay two context keys through encode and decode", () => {
    const context = { a: "1", "\ufeffa": "2", tenant: "\ufeffacme" };
    const decoded = decodeContext(encodeContext(context));
    expect(decoded).toEqual(context);
    expect(Object.keys(decoded)).toHaveLength(3);
  });

  it("the expected context must carry the BOMs too; inspect shows them", async () => {
    const context = { "\ufefftenant": "acme" };
    const envelope = await encrypt(new Uint8Array(3), { keyring, context });
    expect(inspect(envelope).context).toEqual(context);
    expect(
      await outcome(async () => (await decrypt(envelope, { keyring, expectedContext: context })).plaintext),
    ).toEqual({
      plaintext: "000000",
    });
    expect(await failure(() => decrypt(envelope, { keyring, expectedContext: { tenant: "acme" } }))).toBe(
      "CONTEXT_MISMATCH/expected-context",
    );
  });
});
