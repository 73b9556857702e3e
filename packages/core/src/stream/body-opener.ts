import { createDecipheriv, type DecipherGCM, type KeyObject } from "node:crypto";
import { zeroAll } from "../crypto/memory.js";
import { EnvelopeError } from "../errors.js";
import {
  FRAME_MARKER_FINAL,
  FRAME_MARKER_REGULAR,
  MAX_FRAME_COUNT,
  NONCE_LENGTH,
  TAG_LENGTH,
} from "../format/constants.js";
import { FRAME_AAD_LENGTH, writeFrameAad, writeNonce } from "../format/frame.js";
import { type Emit, OUTPUT_SLICE } from "./body-sealer.js";

type State = "marker" | "final-length" | "ciphertext" | "tag" | "done";

/**
 * Opens an envelope body that arrives in chunks of any size, with the same
 * checks, in the same order, as the buffer decrypt (`readFrame` then
 * `FrameOpener`): marker → frame count / final length → whole frame present →
 * plaintext limit → tag. Ciphertext is deciphered as it arrives, but a
 * frame's plaintext is emitted only after its tag verifies; the final frame's
 * plaintext is held until `finish` has seen that no byte follows it, so a
 * consumer that reaches the end without an error has all of the plaintext.
 */
export class BodyOpener {
  private state: State = "marker";
  private sequence = 1;
  private released = 0;
  private final = false;
  private frameCiphertextLength = 0;
  private remaining = 0;
  private decipher: DecipherGCM | undefined;
  private parts: Buffer[] = [];
  private readonly lengthBytes = new Uint8Array(4);
  private readonly tag = new Uint8Array(TAG_LENGTH);
  private filled = 0;
  private readonly nonce = new Uint8Array(NONCE_LENGTH);
  private readonly aad = new Uint8Array(FRAME_AAD_LENGTH);
  /** Ciphertext (not secret) waiting to be deciphered in one larger update. */
  private readonly staging = new Uint8Array(OUTPUT_SLICE);
  private staged = 0;

  constructor(
    private readonly frameKey: KeyObject,
    private readonly messageId: Uint8Array,
    private readonly frameLength: number,
    private readonly maxPlaintextBytes: number,
  ) {}

  get done(): boolean {
    return this.state === "done";
  }

  /** Consumes `chunk`, emitting verified plaintext; throws a typed error on the first failed check. */
  push(chunk: Uint8Array, emit: Emit): void {
    let at = 0;
    const length = chunk.length;
    while (at < length) {
      switch (this.state) {
        case "marker": {
          const marker = chunk[at++]!;
          if (marker === FRAME_MARKER_REGULAR) {
            if (this.sequence >= MAX_FRAME_COUNT) {
              throw new EnvelopeError("MALFORMED", "frame-count: more frames than the format allows");
            }
            this.startFrame(false, this.frameLength);
          } else if (marker === FRAME_MARKER_FINAL) {
            this.state = "final-length";
            this.filled = 0;
          } else {
            throw new EnvelopeError(
              "MALFORMED",
              `frame-marker: unknown frame marker 0x${marker.toString(16)}`,
            );
          }
          break;
        }
        case "final-length": {
          const take = Math.min(4 - this.filled, length - at);
          this.lengthBytes.set(chunk.subarray(at, at + take), this.filled);
          this.filled += take;
          at += take;
          if (this.filled === 4) {
            const finalLength = new DataView(this.lengthBytes.buffer).getUint32(0);
            if (finalLength > this.frameLength) {
              throw new EnvelopeError(
                "MALFORMED",
                "final-frame-length: the final frame is longer than the frame length",
              );
            }
            this.startFrame(true, finalLength);
          }
          break;
        }
        case "ciphertext": {
          const take = Math.min(this.remaining, length - at);
          this.decipherPiece(chunk.subarray(at, at + take));
          this.remaining -= take;
          at += take;
          if (this.remaining === 0) {
            this.flushStaged();
            this.state = "tag";
            this.filled = 0;
          }
          break;
        }
        case "tag": {
          const take = Math.min(TAG_LENGTH - this.filled, length - at);
          this.tag.set(chunk.subarray(at, at + take), this.filled);
          this.filled += take;
          at += take;
          if (this.filled === TAG_LENGTH) this.endFrame(emit);
          break;
        }
        case "done":
          throw new EnvelopeError("MALFORMED", "trailing-bytes: bytes follow the final frame");
      }
    }
  }

  /** Called at the end of the input: emits the final frame, or fails as truncated. */
  finish(emit: Emit): void {
    if (this.state !== "done") {
      throw new EnvelopeError("TAMPERED", "truncated: the envelope ends before its final frame");
    }
    const parts = this.parts;
    this.parts = [];
    for (const part of parts) emit(part);
  }

  /** Zeroes any plaintext not yet emitted; safe to call more than once. */
  dispose(): void {
    zeroAll(this.parts);
    this.parts = [];
    this.decipher = undefined;
  }

  /**
   * Deciphers in slices of OUTPUT_SLICE bytes. Small input chunks are staged
   * first, so that a producer sending a byte at a time cannot make us hold a
   * frame as a million one-byte buffers; large ones go straight through.
   */
  private decipherPiece(piece: Uint8Array): void {
    let at = 0;
    if (this.staged > 0) {
      at = Math.min(OUTPUT_SLICE - this.staged, piece.length);
      this.staging.set(piece.subarray(0, at), this.staged);
      this.staged += at;
      if (this.staged < OUTPUT_SLICE) return;
      this.flushStaged();
    }
    for (; piece.length - at >= OUTPUT_SLICE; at += OUTPUT_SLICE) {
      this.parts.push(this.decipher!.update(piece.subarray(at, at + OUTPUT_SLICE)));
    }
    if (at < piece.length) {
      this.staging.set(piece.subarray(at), 0);
      this.staged = piece.length - at;
    }
  }

  private flushStaged(): void {
    if (this.staged === 0) return;
    const plaintext = this.decipher!.update(this.staging.subarray(0, this.staged));
    if (plaintext.length > 0) this.parts.push(plaintext);
    this.staged = 0;
  }

  private startFrame(final: boolean, ciphertextLength: number): void {
    const sequence = this.sequence;
    this.final = final;
    this.frameCiphertextLength = ciphertextLength;
    writeNonce(this.nonce, sequence);
    writeFrameAad(this.aad, this.messageId, sequence, final, ciphertextLength);
    const decipher = createDecipheriv("aes-256-gcm", this.frameKey, this.nonce, {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(this.aad);
    this.decipher = decipher;
    this.remaining = ciphertextLength;
    this.state = ciphertextLength === 0 ? "tag" : "ciphertext";
    this.filled = 0;
  }

  private endFrame(emit: Emit): void {
    const sequence = this.sequence++;
    const decipher = this.decipher!;
    this.decipher = undefined;
    if (this.released + this.frameCiphertextLength > this.maxPlaintextBytes) {
      throw new EnvelopeError(
        "LIMIT_EXCEEDED",
        "plaintext-size: the envelope exceeds the maximum plaintext size",
      );
    }
    decipher.setAuthTag(this.tag);
    try {
      const tail = decipher.final();
      if (tail.length > 0) this.parts.push(tail);
    } catch {
      throw new EnvelopeError("TAMPERED", `frame-tag: frame ${sequence} failed authentication`);
    }
    this.released += this.frameCiphertextLength;
    if (this.final) {
      this.state = "done";
      return;
    }
    const parts = this.parts;
    this.parts = [];
    for (const part of parts) emit(part);
    this.state = "marker";
  }
}
