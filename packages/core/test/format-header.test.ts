import { describe, expect, it } from "vitest";
import {
  armor,
  dearmor,
  decodeContext,
  decodeHeader,
  encodeContext,
  HeaderParser,
  MAGIC,
} from "../src/format/index.js";
import { createKeyring, DEFAULT_LIMITS, EnvelopeError, encrypt } from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

async function sample(context = { tenant: "acme" }) {
  const { kek } = createMemoryKek();
  return encrypt(new Uint8Array(100), { keyring: createKeyring({ primary: kek }), context, frameLength: 32 });
}

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return (error as EnvelopeError).code;
  }
  throw new Error("expected a failure");
}

describe("header format", () => {
  it("starts with the magic and version 1, and decodes what encrypt wrote", async () => {
    const envelope = await sample();
    expect([...envelope.subarray(0, 5)]).toEqual([...MAGIC, 1]);
    const header = decodeHeader(envelope, DEFAULT_LIMITS);
    expect(header.context).toEqual({ tenant: "acme" });
    expect(header.frameLength).toBe(32);
    expect(header.wrappedKeys).toHaveLength(1);
  });

  it("incremental parser: the same header from 1-byte chunks", async () => {
    const envelope = await sample();
    const whole = decodeHeader(envelope, DEFAULT_LIMITS);
    const parser = new HeaderParser(DEFAULT_LIMITS);
    let result: ReturnType<HeaderParser["push"]>;
    let pushed = 0;
    do {
      result = parser.push(envelope.subarray(pushed, pushed + 1));
      pushed++;
    } while (result === undefined);
    expect(pushed).toBe(whole.length);
    expect(Buffer.from(result.header.authenticatedBytes).equals(Buffer.from(whole.authenticatedBytes))).toBe(
      true,
    );
    expect(result.rest.length).toBe(0);
  });

  it("incremental parser: hands back the body bytes that came with the header", async () => {
    const envelope = await sample();
    const parser = new HeaderParser(DEFAULT_LIMITS);
    const result = parser.push(envelope);
    expect(result?.rest.length).toBe(envelope.length - result!.header.length);
  });

  it("context-length: a hostile length is refused before its bytes arrive", async () => {
    const envelope = await sample();
    const prefix = new Uint8Array(envelope.subarray(0, 45));
    prefix[43] = 0xff;
    prefix[44] = 0xff;
    const parser = new HeaderParser(DEFAULT_LIMITS);
    expect(codeOf(() => parser.push(prefix))).toBe("LIMIT_EXCEEDED");
  });

  it("wrapped-key-count: a hostile count is refused before the entries arrive", async () => {
    const envelope = await sample();
    const header = decodeHeader(envelope, DEFAULT_LIMITS);
    const countOffset = header.authenticatedBytes.length + 16;
    const prefix = new Uint8Array(envelope.subarray(0, countOffset + 2));
    prefix[countOffset] = 0xff;
    expect(codeOf(() => new HeaderParser(DEFAULT_LIMITS).push(prefix))).toBe("LIMIT_EXCEEDED");
  });

  it("header: an envelope cut inside its header is MALFORMED", async () => {
    const envelope = await sample();
    expect(codeOf(() => decodeHeader(envelope.subarray(0, 20), DEFAULT_LIMITS))).toBe("MALFORMED");
  });
});

describe("encryption context encoding", () => {
  it("is canonical: sorted by UTF-8 bytes, whatever the insertion order", () => {
    const a = encodeContext({ b: "2", a: "1", B: "0", é: "3" });
    const b = encodeContext({ é: "3", B: "0", a: "1", b: "2" });
    expect(Buffer.from(a).equals(Buffer.from(b))).toBe(true);
    expect(Object.keys(decodeContext(a))).toEqual(["B", "a", "b", "é"]);
  });

  it("keeps a __proto__ key as data", () => {
    const context = JSON.parse('{"__proto__": "x", "a": "1"}');
    const decoded = decodeContext(encodeContext(context));
    expect(Object.hasOwn(decoded, "__proto__")).toBe(true);
    expect(Object.getPrototypeOf(decoded)).toBe(Object.prototype);
  });

  it("rejects empty keys, non-string values and lone surrogates", () => {
    expect(codeOf(() => encodeContext({ "": "x" }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => encodeContext({ a: 1 as unknown as string }))).toBe("INVALID_ARGUMENT");
    expect(codeOf(() => encodeContext({ a: "\ud800" }))).toBe("INVALID_ARGUMENT");
  });

  it("context: decoding rejects repeated keys and trailing bytes", () => {
    const repeated = Buffer.from("0002000161000178000161000179", "hex");
    expect(codeOf(() => decodeContext(repeated))).toBe("MALFORMED");
    const trailing = Buffer.concat([encodeContext({ a: "1" }), Buffer.from([0])]);
    expect(codeOf(() => decodeContext(trailing))).toBe("MALFORMED");
  });
});

describe("armor", () => {
  it("round-trips and tolerates line breaks", async () => {
    const envelope = await sample();
    const text = armor(envelope);
    expect(text.startsWith("kmse1:")).toBe(true);
    const wrapped = text.replace(/(.{64})/g, "$1\n");
    expect(Buffer.from(dearmor(wrapped)).equals(Buffer.from(envelope))).toBe(true);
  });

  it("armor: rejects characters outside base64url", () => {
    expect(codeOf(() => dearmor("kmse1:abc+def"))).toBe("MALFORMED");
    expect(codeOf(() => dearmor("KMSE"))).toBe("MALFORMED");
  });
});
