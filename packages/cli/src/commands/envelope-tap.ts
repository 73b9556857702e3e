import { type EnvelopeInfo, inspect } from "@kms-envelope/core";
import { tapStream } from "../io/armor-stream.js";
import { MAX_HEADER_BYTES } from "../io/header-reader.js";

/**
 * A pass-through stage over envelope bytes that counts them and reads the
 * header as it goes by (core emits it first, whole), for the summary.
 */
export function envelopeTap() {
  let info: EnvelopeInfo | undefined;
  let bytes = 0;
  let head: Buffer[] | undefined = [];
  let headLength = 0;
  const stage = tapStream((chunk) => {
    bytes += chunk.length;
    if (head === undefined) return;
    head.push(chunk);
    headLength += chunk.length;
    try {
      info = inspect(head.length === 1 ? head[0]! : Buffer.concat(head));
      head = undefined;
    } catch {
      if (headLength > MAX_HEADER_BYTES) head = undefined;
    }
  });
  return {
    stage,
    get info() {
      return info;
    },
    get bytes() {
      return bytes;
    },
  };
}
