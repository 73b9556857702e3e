import { Transform, type TransformCallback } from "node:stream";
import { EnvelopeError } from "@kms-envelope/core";

/**
 * The armored form (`kmse1:` + unpadded base64url, docs/format.md) as byte
 * streams, so `--armor` output and armored input of any size take constant
 * memory. Same rules as core's `armor` / `dearmor`: ASCII whitespace is
 * ignored, any other character outside base64url is MALFORMED. Byte-mode
 * Transforms (not async generators, whose object mode would buffer sixteen
 * whole frames per stage).
 */
const PREFIX = "kmse1:";
const BASE64URL = /^[A-Za-z0-9_-]*$/;
const WHITESPACE = /[\t\n\r ]/g;
/** How far leading whitespace may go before the form must be known. */
const SNIFF_LIMIT = 64 * 1024;

/** Incremental armor encoding: `push` each chunk, then `end`. */
function armorEncoder() {
  let carry = Buffer.alloc(0);
  let started = false;
  return {
    push(chunk: Buffer): Buffer {
      const head = started ? "" : PREFIX;
      started = true;
      const joined = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const whole = joined.length - (joined.length % 3);
      carry = Buffer.from(joined.subarray(whole));
      return Buffer.from(head + joined.subarray(0, whole).toString("base64url"), "latin1");
    },
    end(): Buffer {
      return Buffer.from(`${started ? "" : PREFIX}${carry.toString("base64url")}\n`, "latin1");
    },
  };
}

/** Binary envelope bytes in, the armored form out. */
export function armorStream(): Transform {
  return sameFormAs(Promise.resolve(true));
}

/** Armors its input when `armored` resolves true, else passes it through (rewrap keeps the input's form). */
export function sameFormAs(armored: Promise<boolean>): Transform {
  const encoder = armorEncoder();
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      armored.then((yes) => callback(null, yes ? encoder.push(chunk) : chunk), callback);
    },
    flush(callback) {
      armored.then((yes) => callback(null, yes ? encoder.end() : undefined), callback);
    },
  });
}

/** An envelope stream in either form: binary passes through, armored is decoded on the fly. */
export interface EnvelopeDecoder extends Transform {
  /** Resolves once the first bytes have shown which form the input is in. */
  readonly armored: Promise<boolean>;
}

export function envelopeDecoder(): EnvelopeDecoder {
  let form: "binary" | "armored" | undefined;
  let head: Buffer = Buffer.alloc(0);
  let pending = "";
  let settle!: (armored: boolean) => void;
  const armored = new Promise<boolean>((done) => {
    settle = done;
  });
  const decode = (final: boolean): Buffer | undefined => {
    if (!BASE64URL.test(pending)) throw new EnvelopeError("MALFORMED", "armor: not valid unpadded base64url");
    const whole = final ? pending.length : pending.length - (pending.length % 4);
    if (final && whole % 4 === 1) throw new EnvelopeError("MALFORMED", "armor: not valid unpadded base64url");
    const out = whole > 0 ? Buffer.from(pending.slice(0, whole), "base64url") : undefined;
    pending = pending.slice(whole);
    return out;
  };
  const decide = (ended: boolean, push: (chunk: Buffer) => void): void => {
    const text = head.toString("latin1").trimStart();
    const binary = head.length >= 4 && head.subarray(0, 4).toString("latin1") === "KMSE";
    if (!binary && !ended && text.length < PREFIX.length && head.length < SNIFF_LIMIT) return;
    if (text.startsWith(PREFIX)) {
      form = "armored";
      settle(true);
      pending = text.slice(PREFIX.length).replace(WHITESPACE, "");
      const out = decode(false);
      if (out !== undefined) push(out);
    } else {
      form = "binary";
      settle(false);
      if (head.length > 0) push(head);
    }
    head = Buffer.alloc(0);
  };
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        if (form === "binary") return callback(null, chunk);
        if (form === "armored") {
          pending += chunk.toString("latin1").replace(WHITESPACE, "");
          return callback(null, decode(false));
        }
        head = head.length === 0 ? chunk : Buffer.concat([head, chunk]);
        decide(false, (out) => this.push(out));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        if (form === undefined) decide(true, (out) => this.push(out));
        if (form === "armored") return callback(null, decode(true));
        callback();
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return Object.assign(stream, { armored });
}

/** A byte-mode pass-through calling `onChunk` with each chunk (counting, looking at headers). */
export function tapStream(onChunk: (chunk: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      onChunk(chunk);
      callback(null, chunk);
    },
  });
}
