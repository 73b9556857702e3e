import { Transform, type TransformCallback } from "node:stream";
import { envelopeBytes } from "./envelope-form.js";

/**
 * The armored form (`kmse1:` + unpadded base64url, docs/format.md) as byte
 * streams, so `--armor` output and armored input of any size take constant
 * memory. Byte-mode Transforms (not async generators, whose object mode
 * would buffer sixteen whole frames per stage).
 */
const PREFIX = "kmse1:";

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

/** Either form in, binary envelope bytes out (rules: envelope-form.ts, core's `ArmorDecoder`). */
export function envelopeDecoder(): EnvelopeDecoder {
  let settle!: (armored: boolean) => void;
  const armored = new Promise<boolean>((done) => {
    settle = done;
  });
  const decoder = envelopeBytes((form) => settle(form === "armored"));
  const stream = new Transform({
    transform(chunk: Buffer, _encoding, callback: TransformCallback) {
      try {
        callback(null, decoder.push(chunk));
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        callback(null, decoder.finish());
      } catch (error) {
        callback(error as Error);
      }
    },
  });
  return Object.assign(stream, { armored });
}
