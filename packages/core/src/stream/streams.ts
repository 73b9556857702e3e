import type { Transform } from "node:stream";
import type { RewrapOptions, RewrapReport } from "../rewrap.js";
import { checkDecryptOptions, checkEncryptOptions, checkRewrapOptions } from "../validate.js";
import { DecryptSession, type DecryptStreamHeader, type DecryptStreamOptions } from "./decrypt-session.js";
import { EncryptSession, type EncryptStreamOptions } from "./encrypt-session.js";
import { toNodeTransform } from "./node-adapter.js";
import { RewrapSession } from "./rewrap-session.js";
import { toWebTransform } from "./web-adapter.js";

/** A decrypting stream, with its authenticated header once known. */
export interface HeaderPromise {
  /** Resolves before the first plaintext byte is emitted; rejects if the stream fails first. */
  readonly header: Promise<DecryptStreamHeader>;
}

/**
 * Encrypts a plaintext stream into exactly the bytes `encrypt` would make of
 * it. Holds at most about one frame of plaintext. Use in `stream.pipeline`.
 */
export function encryptStream(options: EncryptStreamOptions): Transform {
  checkEncryptOptions(options, "encryptStream");
  return toNodeTransform(new EncryptSession(options), options.signal);
}

/**
 * Decrypts an envelope stream. A frame's plaintext is pushed only after its
 * tag verifies, and the stream errors (`TAMPERED`, `MALFORMED`, …) on
 * truncation anywhere, reordered or duplicated frames and trailing bytes:
 * a consumer that reads to the end without an error has all the plaintext.
 */
export function decryptStream(options: DecryptStreamOptions): Transform & HeaderPromise {
  checkDecryptOptions(options, "decryptStream");
  const session = new DecryptSession(options);
  return Object.assign(toNodeTransform(session, options.signal), { header: session.header });
}

/** `encryptStream` as a Web `TransformStream`. */
export function encryptWebStream(options: EncryptStreamOptions): TransformStream<Uint8Array, Uint8Array> {
  checkEncryptOptions(options, "encryptWebStream");
  return toWebTransform(new EncryptSession(options), options.signal);
}

/** `decryptStream` as a Web `TransformStream`. */
export function decryptWebStream(
  options: DecryptStreamOptions,
): TransformStream<Uint8Array, Uint8Array> & HeaderPromise {
  checkDecryptOptions(options, "decryptWebStream");
  const session = new DecryptSession(options);
  return Object.assign(toWebTransform(session, options.signal), { header: session.header });
}

export type { DecryptStreamHeader, DecryptStreamOptions, EncryptStreamOptions };

/** What a rewrap stream did, once its header has been rewritten. */
export interface ReportPromise {
  readonly report: Promise<RewrapReport>;
}

/** `rewrap` for a stream of any size: rewrites the header, passes the body through byte for byte. */
export function rewrapStream(options: RewrapOptions): Transform & ReportPromise {
  checkRewrapOptions(options, "rewrapStream");
  const session = new RewrapSession(options);
  return Object.assign(toNodeTransform(session, options.signal), { report: session.report });
}

/** `rewrapStream` as a Web `TransformStream`. */
export function rewrapWebStream(
  options: RewrapOptions,
): TransformStream<Uint8Array, Uint8Array> & ReportPromise {
  checkRewrapOptions(options, "rewrapWebStream");
  const session = new RewrapSession(options);
  return Object.assign(toWebTransform(session, options.signal), { report: session.report });
}
