import type { Readable } from "node:stream";
import { type EnvelopeInfo, inspect } from "@kms-envelope/core";
import { MAX_HEADER_BYTES } from "../io/header-reader.js";

/**
 * Watches the envelope bytes a stage emits (a `data` listener beside the
 * pipeline's own, not a pass-through stage of its own: one stream hop less
 * per 64 KiB chunk): counts them and reads the header as it goes by (core
 * emits it first, whole), for the summary.
 */
export function envelopeTap(source: Readable) {
  let info: EnvelopeInfo | undefined;
  let bytes = 0;
  let head: Buffer[] | undefined = [];
  let headLength = 0;
  source.on("data", (chunk: Buffer) => {
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
    get info() {
      return info;
    },
    get bytes() {
      return bytes;
    },
  };
}
