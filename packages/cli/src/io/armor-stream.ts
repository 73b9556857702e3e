import { EnvelopeError } from "@kms-envelope/core";

/**
 * The armored form (`kmse1:` + unpadded base64url, docs/format.md) as
 * streams, so `--armor` output and armored input of any size take constant
 * memory. Same rules as core's `armor` / `dearmor`: ASCII whitespace is
 * ignored, any other character outside base64url is MALFORMED.
 */
const PREFIX = "kmse1:";
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const WHITESPACE = /[\t\n\r ]/g;

export async function* armorBytes(source: AsyncIterable<Uint8Array>): AsyncGenerator<Buffer> {
  yield Buffer.from(PREFIX, "latin1");
  let carry = Buffer.alloc(0);
  for await (const chunk of source) {
    const joined = carry.length === 0 ? Buffer.from(chunk) : Buffer.concat([carry, chunk]);
    const whole = joined.length - (joined.length % 3);
    if (whole > 0) yield Buffer.from(joined.subarray(0, whole).toString("base64url"), "latin1");
    carry = Buffer.from(joined.subarray(whole));
  }
  yield Buffer.from(`${carry.toString("base64url")}\n`, "latin1");
}

async function* dearmorRest(first: string, source: AsyncIterator<Uint8Array>): AsyncGenerator<Buffer> {
  let pending = first;
  const decode = (final: boolean): Buffer | undefined => {
    if (!BASE64URL.test(pending)) throw new EnvelopeError("MALFORMED", "armor: not valid unpadded base64url");
    const whole = final ? pending.length : pending.length - (pending.length % 4);
    if (final && whole % 4 === 1) throw new EnvelopeError("MALFORMED", "armor: not valid unpadded base64url");
    const out = whole > 0 ? Buffer.from(pending.slice(0, whole), "base64url") : undefined;
    pending = pending.slice(whole);
    return out;
  };
  for (;;) {
    const next = await source.next();
    if (next.done) break;
    pending += Buffer.from(next.value).toString("latin1").replace(WHITESPACE, "");
    const out = decode(false);
    if (out !== undefined) yield out;
  }
  const out = decode(true);
  if (out !== undefined) yield out;
}

export interface EnvelopeBytes {
  /** Binary envelope bytes, dearmored on the fly when the input is armored. */
  readonly bytes: AsyncGenerator<Buffer>;
  /** Resolves once the first bytes have shown which form the input is in. */
  readonly armored: Promise<boolean>;
}

/** Accepts a binary or armored envelope stream and yields binary bytes. */
export function envelopeBytes(source: AsyncIterable<Uint8Array>): EnvelopeBytes {
  let settle!: (armored: boolean) => void;
  const armored = new Promise<boolean>((done) => {
    settle = done;
  });
  async function* run(): AsyncGenerator<Buffer> {
    const iterator = source[Symbol.asyncIterator]();
    let head = Buffer.alloc(0);
    let ended = false;
    // Leading whitespace may precede the armor prefix; look until the form is certain.
    while (head.length < 65_536 && head.toString("latin1").trimStart().length < PREFIX.length) {
      const next = await iterator.next();
      if (next.done) {
        ended = true;
        break;
      }
      head = Buffer.concat([head, next.value]);
      if (head.length >= 4 && head.subarray(0, 4).toString("latin1") === "KMSE") break;
    }
    const text = head.toString("latin1").trimStart();
    if (!text.startsWith(PREFIX)) {
      settle(false);
      if (head.length > 0) yield head;
      if (ended) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
      }
    }
    settle(true);
    const rest = text.slice(PREFIX.length).replace(WHITESPACE, "");
    yield* dearmorRest(rest, ended ? emptyIterator() : iterator);
  }
  const bytes = run();
  return { bytes, armored };
}

function emptyIterator(): AsyncIterator<Uint8Array> {
  return { next: async () => ({ done: true, value: undefined }) };
}
