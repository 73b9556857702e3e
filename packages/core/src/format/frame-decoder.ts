import { EnvelopeError, ERROR_CODES, type ErrorCode } from "../errors.js";
import { badArgument, checkBytes, checkCount, checkObject } from "./arguments.js";
import { FRAME_MARKER_FINAL, FRAME_MARKER_REGULAR, MAX_FRAME_COUNT, TAG_LENGTH } from "./constants.js";
import { frameDecoderSeam } from "./frame-decoder-seam.js";

/**
 * The body checks, in the order a decoder makes them (docs/format.md,
 * "Decrypting"). Each error message starts with the check's name; the
 * negative test vectors name them too. `frame-tag` is made by the frame's
 * decipher (crypto/frame-decipher.ts), through `rejectFrame`.
 */
export type FrameCheck =
  | "frame-marker"
  | "frame-count"
  | "final-frame-length"
  | "plaintext-size"
  | "frame-tag"
  | "truncated"
  | "trailing-bytes";

const FRAME_CHECKS: ReadonlySet<string> = new Set<FrameCheck>([
  "frame-marker",
  "frame-count",
  "final-frame-length",
  "plaintext-size",
  "frame-tag",
  "truncated",
  "trailing-bytes",
]);

export function rejectFrame(check: FrameCheck, code: ErrorCode, detail: string): never {
  if (!FRAME_CHECKS.has(check) || !ERROR_CODES.includes(code) || typeof detail !== "string") {
    badArgument("rejectFrame", "check must be a FrameCheck, code an ErrorCode, detail a string");
  }
  throw new EnvelopeError(code, `${check}: ${detail}`);
}

/** What a decoder drives, frame by frame: the decipher and wherever plaintext goes. */
export interface FrameSink {
  /** A frame starts: its sequence number, whether it is the final one, its plaintext length. */
  begin(sequence: number, final: boolean, length: number): void;
  /** The frame's ciphertext, in order, in pieces of any size (never empty). */
  ciphertext(piece: Uint8Array): void;
  /** The frame's tag: authenticate (throwing `frame-tag`) before any of its plaintext is released. */
  end(tag: Uint8Array): void;
}

type State = "marker" | "final-length" | "ciphertext" | "tag" | "done";

/**
 * The one body decoder, for the buffer and the stream decrypt alike: takes
 * the body in chunks of any size (a whole envelope is one chunk) and checks,
 * in this order: marker → frame count / final length → whole frame present →
 * plaintext limit → tag (by the sink) → nothing after the final frame. A
 * chunk's ciphertext goes to the sink as views, without copies; only a
 * length or a tag split across chunks is gathered into scratch bytes.
 */
export class FrameDecoder {
  private state: State = "marker";
  private sequence = frameDecoderSeam.firstSequence;
  private released = 0;
  private final = false;
  private frameLength = 0;
  private remaining = 0;
  private readonly scratch = new Uint8Array(TAG_LENGTH);
  private filled = 0;

  constructor(
    private readonly maxFrameLength: number,
    private readonly maxPlaintextBytes: number,
    private readonly sink: FrameSink,
  ) {
    checkCount(maxFrameLength, "FrameDecoder", "maxFrameLength", 1);
    checkCount(maxPlaintextBytes, "FrameDecoder", "maxPlaintextBytes");
    checkObject(sink, "FrameDecoder", "sink");
    for (const method of ["begin", "ciphertext", "end"] as const) {
      if (typeof sink[method] !== "function")
        badArgument("FrameDecoder", `sink.${method} must be a function`);
    }
  }

  /** Whether the final frame has been authenticated. */
  get done(): boolean {
    return this.state === "done";
  }

  push(chunk: Uint8Array): void {
    checkBytes(chunk, "FrameDecoder.push", "chunk");
    let at = 0;
    const length = chunk.length;
    while (at < length) {
      switch (this.state) {
        case "marker": {
          const marker = chunk[at++]!;
          if (marker === FRAME_MARKER_REGULAR) {
            if (this.sequence >= MAX_FRAME_COUNT) {
              rejectFrame("frame-count", "MALFORMED", "more frames than the format allows");
            }
            this.begin(false, this.maxFrameLength);
          } else if (marker === FRAME_MARKER_FINAL) {
            this.state = "final-length";
            this.filled = 0;
          } else {
            rejectFrame("frame-marker", "MALFORMED", `unknown frame marker 0x${marker.toString(16)}`);
          }
          break;
        }
        case "final-length": {
          at = this.gather(chunk, at, 4);
          if (this.filled === 4) {
            const scratch = this.scratch;
            const finalLength =
              ((scratch[0]! << 24) | (scratch[1]! << 16) | (scratch[2]! << 8) | scratch[3]!) >>> 0;
            if (finalLength > this.maxFrameLength) {
              rejectFrame(
                "final-frame-length",
                "MALFORMED",
                "the final frame is longer than the frame length",
              );
            }
            this.begin(true, finalLength);
          }
          break;
        }
        case "ciphertext": {
          const take = Math.min(this.remaining, length - at);
          this.sink.ciphertext(at === 0 && take === length ? chunk : chunk.subarray(at, at + take));
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) {
            this.state = "tag";
            this.filled = 0;
          }
          break;
        }
        case "tag": {
          if (this.filled === 0 && length - at >= TAG_LENGTH) {
            // The whole tag is in this chunk: hand over a view.
            at += TAG_LENGTH;
            this.end(chunk.subarray(at - TAG_LENGTH, at));
          } else {
            at = this.gather(chunk, at, TAG_LENGTH);
            if (this.filled === TAG_LENGTH) this.end(this.scratch);
          }
          break;
        }
        case "done":
          rejectFrame("trailing-bytes", "MALFORMED", "bytes follow the final frame");
      }
    }
  }

  /** The input has ended: anything but an authenticated final frame is a truncation. */
  finish(): void {
    if (this.state !== "done") {
      rejectFrame("truncated", "TAMPERED", "the envelope ends before its final frame");
    }
  }

  private gather(chunk: Uint8Array, at: number, needed: number): number {
    const take = Math.min(needed - this.filled, chunk.length - at);
    this.scratch.set(chunk.subarray(at, at + take), this.filled);
    this.filled += take;
    return at + take;
  }

  private begin(final: boolean, length: number): void {
    this.final = final;
    this.frameLength = length;
    this.remaining = length;
    this.sink.begin(this.sequence, final, length);
    this.state = length === 0 ? "tag" : "ciphertext";
    this.filled = 0;
  }

  private end(tag: Uint8Array): void {
    if (this.released + this.frameLength > this.maxPlaintextBytes) {
      rejectFrame("plaintext-size", "LIMIT_EXCEEDED", "the envelope exceeds the maximum plaintext size");
    }
    this.sink.end(tag);
    this.released += this.frameLength;
    this.sequence++;
    this.state = this.final ? "done" : "marker";
  }
}
