import type { KeyObject } from "node:crypto";
import { createFrameCipher, sealFrameInto } from "./crypto/aes-gcm.js";
import { FrameDecipher } from "./crypto/frame-decipher.js";
import { zero } from "./crypto/memory.js";
import { EnvelopeError } from "./errors.js";
import {
  FINAL_FRAME_HEADER_LENGTH,
  FINAL_FRAME_OVERHEAD,
  FRAME_MARKER_FINAL,
  FRAME_MARKER_REGULAR,
  MAX_FRAME_COUNT,
  NONCE_LENGTH,
  REGULAR_FRAME_OVERHEAD,
  TAG_LENGTH,
} from "./format/constants.js";
import { FRAME_AAD_LENGTH, writeFrameAad, writeNonce } from "./format/frame.js";
import type { FrameSink } from "./format/frame-decoder.js";

const REGULAR_PREFIX = Uint8Array.of(FRAME_MARKER_REGULAR);

/**
 * Bytes per cipher update when writing into a caller's buffer: measured in
 * docs/performance.md. Small enough that each fresh output stays in cache and
 * is recycled by malloc, large enough that the per-call cost (~1 µs) is noise.
 */
export const CRYPTO_SLICE = 256 * 1024;

/**
 * Internal test seam, not exported by any package entry: the sequence number
 * new sealers start at. Tests move it near 2³² − 1 to reach the frame-count
 * limit through every encrypt path without 4 GiB of input.
 */
export const frameSealerSeam = { firstSequence: 1 };

/**
 * Seals frames in order. One instance per message: it owns the nonce and AAD
 * scratch buffers, so the per-frame work is one GCM call and its copies.
 */
export class FrameSealer {
  private sequence = frameSealerSeam.firstSequence;
  private finished = false;
  private readonly nonce = new Uint8Array(NONCE_LENGTH);
  private readonly aad = new Uint8Array(FRAME_AAD_LENGTH);

  constructor(
    private readonly frameKey: KeyObject,
    private readonly messageId: Uint8Array,
    readonly frameLength: number,
  ) {}

  /** Bytes `seal` writes for a frame of `plaintextLength` bytes. */
  static wireLength(plaintextLength: number, final: boolean): number {
    return plaintextLength + (final ? FINAL_FRAME_OVERHEAD : REGULAR_FRAME_OVERHEAD);
  }

  /**
   * Seals the next frame and hands its wire bytes to `emit` as fresh chunks
   * (marker and length, ciphertext in slices of at most `slice` bytes, tag),
   * so a stream passes them on without copying. Small slices keep each
   * allocation below malloc's mmap threshold and let the garbage collector
   * reclaim them early: that is what keeps a stream's RSS flat.
   */
  sealTo(plaintext: Uint8Array, final: boolean, emit: (chunk: Buffer) => void, slice: number): void {
    this.next(plaintext, final);
    let prefix: Buffer;
    if (final) {
      prefix = Buffer.allocUnsafe(FINAL_FRAME_HEADER_LENGTH);
      prefix[0] = FRAME_MARKER_FINAL;
      prefix.writeUInt32BE(plaintext.length, 1);
    } else {
      prefix = Buffer.from(REGULAR_PREFIX);
    }
    emit(prefix);
    const cipher = createFrameCipher(this.frameKey, this.nonce, this.aad);
    for (let at = 0; at < plaintext.length; at += slice) {
      emit(cipher.update(plaintext.subarray(at, Math.min(at + slice, plaintext.length))));
    }
    cipher.final();
    emit(cipher.getAuthTag());
  }

  private next(plaintext: Uint8Array, final: boolean): number {
    if (this.finished) throw new Error("FrameSealer: the final frame was already sealed");
    if (final ? plaintext.length > this.frameLength : plaintext.length !== this.frameLength) {
      throw new Error("FrameSealer: frame of the wrong length");
    }
    // The nonce holds a u32 sequence: frame 2³² would reuse the header tag's nonce (0), and
    // every later one an earlier frame's, under the same key. Refuse before sealing it.
    if (this.sequence > MAX_FRAME_COUNT) {
      throw new EnvelopeError(
        "LIMIT_EXCEEDED",
        "frame-count: a message holds at most 2^32 - 1 frames; use a larger frame length",
      );
    }
    const sequence = this.sequence++;
    writeNonce(this.nonce, sequence);
    writeFrameAad(this.aad, this.messageId, sequence, final, plaintext.length);
    this.finished = final;
    return sequence;
  }

  /** Writes the sealed frame into `target` at `offset`; returns the offset after it. */
  seal(plaintext: Uint8Array, final: boolean, target: Uint8Array, offset: number): number {
    this.next(plaintext, final);
    let at = offset;
    target[at++] = final ? FRAME_MARKER_FINAL : FRAME_MARKER_REGULAR;
    if (final) {
      new DataView(target.buffer, target.byteOffset + at, 4).setUint32(0, plaintext.length);
      at += 4;
    }
    const tag = sealFrameInto(this.frameKey, this.nonce, this.aad, plaintext, target, at, CRYPTO_SLICE);
    at += plaintext.length;
    target.set(tag, at);
    return at + TAG_LENGTH;
  }
}

/**
 * Where the buffer decrypt's plaintext goes (a `FrameSink` for the one frame
 * decoder). A single-frame body is deciphered into OpenSSL's fresh output,
 * returned as is; a longer one into one buffer sized by the body (an upper
 * bound, so no scan ahead of the checks), in slices. Nothing is handed out
 * until `take`, which the caller calls only once the decoder is done; on
 * any failure `dispose` zeroes everything written.
 */
export class PlaintextBuffer implements FrameSink {
  private single: Buffer | undefined;
  private out: Buffer | undefined;
  private written = 0;
  private singleFrame = false;
  private readonly decipher: FrameDecipher;

  constructor(
    frameKey: KeyObject,
    messageId: Uint8Array,
    private readonly capacity: number,
  ) {
    this.decipher = new FrameDecipher(frameKey, messageId);
  }

  begin(sequence: number, final: boolean, length: number): void {
    this.singleFrame = sequence === 1 && final;
    this.decipher.begin(sequence, final, length);
  }

  ciphertext(piece: Uint8Array): void {
    if (this.singleFrame) {
      this.keep(this.decipher.update(piece));
      return;
    }
    for (let at = 0; at < piece.length; at += CRYPTO_SLICE) {
      this.keep(this.decipher.update(piece.subarray(at, Math.min(at + CRYPTO_SLICE, piece.length))));
    }
  }

  end(tag: Uint8Array): void {
    const tail = this.decipher.end(tag);
    if (tail.length > 0) this.keep(tail);
  }

  private keep(part: Buffer): void {
    if (this.singleFrame) {
      if (this.single === undefined) this.single = part;
      else {
        const joined = Buffer.concat([this.single, part]);
        zero(this.single, part);
        this.single = joined;
      }
      return;
    }
    // Every byte written is plaintext; the tail past `written` is zeroed before release.
    this.out ??= Buffer.allocUnsafeSlow(this.capacity);
    this.out.set(part, this.written);
    part.fill(0);
    this.written += part.length;
  }

  /** The verified plaintext: call only after the decoder is done. */
  take(): Buffer {
    if (this.single !== undefined || this.out === undefined) return this.single ?? Buffer.alloc(0);
    this.out.fill(0, this.written);
    return this.out.subarray(0, this.written);
  }

  /** Zeroes whatever was deciphered (after a failed check). */
  dispose(): void {
    this.decipher.dispose();
    this.single?.fill(0);
    this.out?.fill(0, 0, this.written);
  }
}
