import type { KeyObject } from "node:crypto";
import { FrameDecipher } from "../crypto/frame-decipher.js";
import { zeroAll } from "../crypto/memory.js";
import { FrameDecoder, type FrameSink } from "../format/frame-decoder.js";
import { type Emit, OUTPUT_SLICE } from "./body-sealer.js";

/**
 * Opens an envelope body that arrives in chunks of any size: the one frame
 * decoder (format/frame-decoder.ts, the same checks in the same order as the
 * buffer decrypt) driving a sink that deciphers ciphertext as it arrives but
 * emits a frame's plaintext only after its tag verifies. The final frame's
 * plaintext is held until `finish` has seen that no byte follows it, so a
 * consumer that reaches the end without an error has all of the plaintext.
 */
export class BodyOpener implements FrameSink {
  private readonly decoder: FrameDecoder;
  private readonly decipher: FrameDecipher;
  private emit: Emit | undefined;
  private final = false;
  private parts: Buffer[] = [];
  /** Ciphertext (not secret) waiting to be deciphered in one larger update. */
  private readonly staging = new Uint8Array(OUTPUT_SLICE);
  private staged = 0;

  constructor(frameKey: KeyObject, messageId: Uint8Array, frameLength: number, maxPlaintextBytes: number) {
    this.decipher = new FrameDecipher(frameKey, messageId);
    this.decoder = new FrameDecoder(frameLength, maxPlaintextBytes, this);
  }

  get done(): boolean {
    return this.decoder.done;
  }

  /** Consumes `chunk`, emitting verified plaintext; throws a typed error on the first failed check. */
  push(chunk: Uint8Array, emit: Emit): void {
    this.emit = emit;
    try {
      this.decoder.push(chunk);
    } finally {
      this.emit = undefined;
    }
  }

  /** Called at the end of the input: emits the final frame, or fails as truncated. */
  finish(emit: Emit): void {
    this.decoder.finish();
    const parts = this.parts;
    this.parts = [];
    for (const part of parts) emit(part);
  }

  /** Zeroes any plaintext not yet emitted; safe to call more than once. */
  dispose(): void {
    zeroAll(this.parts);
    this.parts = [];
    this.decipher.dispose();
  }

  begin(sequence: number, final: boolean, length: number): void {
    this.final = final;
    this.decipher.begin(sequence, final, length);
  }

  /**
   * Deciphers in slices of OUTPUT_SLICE bytes. Small input chunks are staged
   * first, so that a producer sending a byte at a time cannot make us hold a
   * frame as a million one-byte buffers; large ones go straight through.
   */
  ciphertext(piece: Uint8Array): void {
    let at = 0;
    if (this.staged > 0) {
      at = Math.min(OUTPUT_SLICE - this.staged, piece.length);
      this.staging.set(piece.subarray(0, at), this.staged);
      this.staged += at;
      if (this.staged < OUTPUT_SLICE) return;
      this.flushStaged();
    }
    for (; piece.length - at >= OUTPUT_SLICE; at += OUTPUT_SLICE) {
      this.parts.push(this.decipher.update(piece.subarray(at, at + OUTPUT_SLICE)));
    }
    if (at < piece.length) {
      this.staging.set(piece.subarray(at), 0);
      this.staged = piece.length - at;
    }
  }

  end(tag: Uint8Array): void {
    this.flushStaged();
    const tail = this.decipher.end(tag);
    if (tail.length > 0) this.parts.push(tail);
    if (this.final) return;
    const parts = this.parts;
    this.parts = [];
    for (const part of parts) this.emit!(part);
  }

  private flushStaged(): void {
    if (this.staged === 0) return;
    const plaintext = this.decipher.update(this.staging.subarray(0, this.staged));
    if (plaintext.length > 0) this.parts.push(plaintext);
    this.staged = 0;
  }
}
