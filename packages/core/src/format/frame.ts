import { EnvelopeError } from "../errors.js";
import { checkBytes, checkCount } from "./arguments.js";
import { ByteReader, NeedMoreBytes } from "./bytes.js";
import {
  FINAL_FRAME_OVERHEAD,
  FRAME_MARKER_FINAL,
  FRAME_MARKER_REGULAR,
  MAX_FRAME_COUNT,
  MESSAGE_ID_LENGTH,
  NONCE_LENGTH,
  REGULAR_FRAME_OVERHEAD,
  TAG_LENGTH,
} from "./constants.js";

/**
 * Frame layout (docs/format.md, "Body"):
 *   regular: 0x00 ‖ ciphertext (frameLength bytes) ‖ tag (16)
 *   final:   0x01 ‖ u32 plaintext length L (0 ≤ L ≤ frameLength) ‖ ciphertext (L) ‖ tag (16)
 * Frames are numbered from 1; the header tag uses sequence number 0.
 */
export interface FrameView {
  readonly sequence: number;
  readonly final: boolean;
  readonly ciphertext: Uint8Array;
  readonly tag: Uint8Array;
  /** Bytes the frame occupies on the wire. */
  readonly wireLength: number;
}

export const FRAME_AAD_LENGTH = MESSAGE_ID_LENGTH + 4 + 1 + 4;

/** Nonce: eight zero bytes ‖ u32 sequence number. Sequence 0 is the header tag's. */
export function writeNonce(target: Uint8Array, sequence: number): Uint8Array {
  checkBytes(target, "writeNonce", "target");
  checkCount(sequence, "writeNonce", "sequence");
  target.fill(0, 0, NONCE_LENGTH - 4);
  new DataView(target.buffer, target.byteOffset, NONCE_LENGTH).setUint32(NONCE_LENGTH - 4, sequence);
  return target;
}

/** AAD: message id ‖ u32 sequence number ‖ u8 final flag ‖ u32 plaintext length of this frame. */
export function writeFrameAad(
  target: Uint8Array,
  messageId: Uint8Array,
  sequence: number,
  final: boolean,
  plaintextLength: number,
): Uint8Array {
  checkBytes(target, "writeFrameAad", "target");
  checkBytes(messageId, "writeFrameAad", "messageId");
  checkCount(sequence, "writeFrameAad", "sequence");
  checkCount(plaintextLength, "writeFrameAad", "plaintextLength");
  target.set(messageId, 0);
  const view = new DataView(target.buffer, target.byteOffset, FRAME_AAD_LENGTH);
  view.setUint32(MESSAGE_ID_LENGTH, sequence);
  view.setUint8(MESSAGE_ID_LENGTH + 4, final ? 1 : 0);
  view.setUint32(MESSAGE_ID_LENGTH + 5, plaintextLength);
  return target;
}

/** Number of regular frames and the final frame's length for a plaintext of `length` bytes. */
export function planFrames(
  length: number,
  frameLength: number,
): { regularFrames: number; finalLength: number } {
  checkCount(length, "planFrames", "length");
  checkCount(frameLength, "planFrames", "frameLength", 1);
  // The final frame carries 1..frameLength bytes, or 0 when the plaintext is empty.
  const regularFrames = length === 0 ? 0 : Math.floor((length - 1) / frameLength);
  const finalLength = length - regularFrames * frameLength;
  if (regularFrames + 1 > MAX_FRAME_COUNT) {
    throw new EnvelopeError(
      "LIMIT_EXCEEDED",
      "frame-count: the plaintext needs more than 2^32 - 1 frames; use a larger frame length",
    );
  }
  return { regularFrames, finalLength };
}

export function bodyLength(length: number, frameLength: number): number {
  const { regularFrames, finalLength } = planFrames(length, frameLength);
  return regularFrames * (frameLength + REGULAR_FRAME_OVERHEAD) + FINAL_FRAME_OVERHEAD + finalLength;
}

/**
 * Reads the frame at the reader's position. Throws `NeedMoreBytes` when the
 * input ends inside it; the checks below are named in errors and vectors.
 */
export function readFrame(reader: ByteReader, frameLength: number, sequence: number): FrameView {
  if (!(reader instanceof ByteReader)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "readFrame: reader must be a ByteReader");
  }
  checkCount(frameLength, "readFrame", "frameLength", 1);
  checkCount(sequence, "readFrame", "sequence", 1);
  const start = reader.offset;
  const marker = reader.u8();
  if (marker === FRAME_MARKER_REGULAR) {
    if (sequence >= MAX_FRAME_COUNT) {
      throw new EnvelopeError("MALFORMED", "frame-count: more frames than the format allows");
    }
    const ciphertext = reader.bytes(frameLength);
    const tag = reader.bytes(TAG_LENGTH);
    return { sequence, final: false, ciphertext, tag, wireLength: reader.offset - start };
  }
  if (marker === FRAME_MARKER_FINAL) {
    const length = reader.u32();
    if (length > frameLength) {
      throw new EnvelopeError(
        "MALFORMED",
        "final-frame-length: the final frame is longer than the frame length",
      );
    }
    const ciphertext = reader.bytes(length);
    const tag = reader.bytes(TAG_LENGTH);
    return { sequence, final: true, ciphertext, tag, wireLength: reader.offset - start };
  }
  throw new EnvelopeError("MALFORMED", `frame-marker: unknown frame marker 0x${marker.toString(16)}`);
}

/** Where each frame of a complete body lies, checked for structure (not yet authenticated). */
export function scanBody(body: Uint8Array, frameLength: number): FrameView[] {
  checkBytes(body, "scanBody", "body");
  const reader = new ByteReader(body);
  const frames: FrameView[] = [];
  for (let sequence = 1; ; sequence++) {
    let frame: FrameView;
    try {
      frame = readFrame(reader, frameLength, sequence);
    } catch (error) {
      if (error instanceof NeedMoreBytes) {
        throw new EnvelopeError("TAMPERED", "truncated: the envelope ends before its final frame");
      }
      throw error;
    }
    frames.push(frame);
    if (frame.final) break;
  }
  if (reader.remaining !== 0)
    throw new EnvelopeError("MALFORMED", "trailing-bytes: bytes follow the final frame");
  return frames;
}
