import { checkBytes, checkObject } from "./arguments.js";
import { concatBytes, NeedMoreBytes } from "./bytes.js";
import { decodeHeaderPrefix, type EnvelopeHeader } from "./header.js";
import type { Limits } from "./limits.js";

export interface HeaderParseResult {
  readonly header: EnvelopeHeader;
  /** Bytes after the header in what was pushed so far (the start of the body). */
  readonly rest: Uint8Array;
}

/**
 * Parses a header from chunks as they arrive. Re-parses only once at least as
 * many bytes as the last attempt said it lacked have arrived, so tiny chunks
 * cost O(header size) in total, and limits are enforced as soon as each count
 * or length is read: a hostile length is refused before its bytes are awaited.
 */
export class HeaderParser {
  private chunks: Uint8Array[] = [];
  private buffered = 0;
  private wanted = 0;
  private result: HeaderParseResult | undefined;

  constructor(private readonly limits: Limits) {
    checkObject(limits, "HeaderParser", "limits");
  }

  /** Returns the header once complete; `undefined` while more bytes are needed. */
  push(chunk: Uint8Array): HeaderParseResult | undefined {
    checkBytes(chunk, "HeaderParser.push", "chunk");
    if (this.result !== undefined) throw new Error("HeaderParser: header already complete");
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    if (this.buffered < this.wanted) return undefined;
    const input = this.chunks.length === 1 ? this.chunks[0]! : concatBytes(this.chunks);
    this.chunks = [input];
    try {
      const header = decodeHeaderPrefix(input, this.limits);
      this.result = { header, rest: input.subarray(header.length) };
      this.chunks = [];
      return this.result;
    } catch (error) {
      if (error instanceof NeedMoreBytes) {
        this.wanted = this.buffered + error.needed;
        return undefined;
      }
      throw error;
    }
  }

  get bufferedBytes(): number {
    return this.buffered;
  }
}
