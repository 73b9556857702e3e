import type { KeyObject } from "node:crypto";
import { FrameSealer } from "../body.js";

/** Largest chunk a stream emits: see `FrameSealer.sealTo` for why it is small. */
export const OUTPUT_SLICE = 64 * 1024;

/** Receives sealed bytes; the chunks are fresh and owned by the receiver. */
export type Emit = (chunk: Uint8Array) => void;

/**
 * Turns plaintext chunks of any size into the frames of one envelope body,
 * holding at most one frame of plaintext. A full frame is held back until
 * a later byte (or the end) shows whether it is the final frame, because
 * the final flag and length are part of its AAD.
 */
export class BodySealer {
  private readonly pending: Buffer;
  private pendingLength = 0;
  private readonly sealer: FrameSealer;
  private finished = false;

  constructor(
    frameKey: KeyObject,
    messageId: Uint8Array,
    private readonly frameLength: number,
  ) {
    this.sealer = new FrameSealer(frameKey, messageId, frameLength);
    // Plaintext lands here only between chunks; zeroed on finish and dispose.
    this.pending = Buffer.alloc(frameLength);
  }

  push(chunk: Uint8Array, emit: Emit): void {
    if (this.finished) throw new Error("BodySealer: already finished");
    const frameLength = this.frameLength;
    let position = 0;
    if (this.pendingLength > 0) {
      if (this.pendingLength === frameLength) {
        // More bytes follow, so the held frame is a regular one.
        if (chunk.length === 0) return;
        this.emitFrame(this.pending, false, emit);
        this.pendingLength = 0;
      } else {
        const take = Math.min(frameLength - this.pendingLength, chunk.length);
        this.pending.set(chunk.subarray(0, take), this.pendingLength);
        this.pendingLength += take;
        position = take;
        if (this.pendingLength < frameLength || position === chunk.length) return;
        this.emitFrame(this.pending, false, emit);
        this.pendingLength = 0;
      }
    }
    // Whole frames straight from the caller's chunk, while at least one byte follows each.
    while (chunk.length - position > frameLength) {
      this.emitFrame(chunk.subarray(position, position + frameLength), false, emit);
      position += frameLength;
    }
    if (position < chunk.length) {
      this.pending.set(chunk.subarray(position), 0);
      this.pendingLength = chunk.length - position;
    }
  }

  /** Seals the final frame (possibly empty) and zeroes the held plaintext. */
  finish(emit: Emit): void {
    if (this.finished) throw new Error("BodySealer: already finished");
    this.emitFrame(this.pending.subarray(0, this.pendingLength), true, emit);
    this.finished = true;
    this.dispose();
  }

  /** Zeroes the held plaintext; safe to call more than once. */
  dispose(): void {
    this.pending.fill(0, 0, this.pendingLength);
    this.pendingLength = 0;
  }

  private emitFrame(plaintext: Uint8Array, final: boolean, emit: Emit): void {
    this.sealer.sealTo(plaintext, final, emit, OUTPUT_SLICE);
  }
}
