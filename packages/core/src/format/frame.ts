import { EnvelopeError } from "../errors.js";
import { checkBytes, checkCount } from "./arguments.js";
import {
  FINAL_FRAME_OVERHEAD,
  MAX_FRAME_COUNT,
  MESSAGE_ID_LENGTH,
  NONCE_LENGTH,
  REGULAR_FRAME_OVERHEAD,
} from "./constants.js";

/*
 * Frame layout (docs/format.md, "Body"):
 *   regular: 0x00 ‖ ciphertext (frameLength bytes) ‖ tag (16)
 *   final:   0x01 ‖ u32 plaintext length L (0 ≤ L ≤ frameLength) ‖ ciphertext (L) ‖ tag (16)
 * Frames are numbered from 1; the header tag uses sequence number 0.
 * frame-decoder.ts reads them; body.ts writes them.
 */

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
