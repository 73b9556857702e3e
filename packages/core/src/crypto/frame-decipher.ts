import { createDecipheriv, type DecipherGCM, type KeyObject } from "node:crypto";
import { NONCE_LENGTH, TAG_LENGTH } from "../format/constants.js";
import { FRAME_AAD_LENGTH, writeFrameAad, writeNonce } from "../format/frame.js";
import { rejectFrame } from "../format/frame-decoder.js";

/**
 * The AES-256-GCM decipher for the frames of one message, in order: the
 * nonce and AAD come from the sequence number the decoder hands over, so a
 * reordered, duplicated or dropped frame fails its tag. Owns the nonce and
 * AAD scratch; one cipher object per frame.
 */
export class FrameDecipher {
  private decipher: DecipherGCM | undefined;
  private sequence = 0;
  private readonly nonce = new Uint8Array(NONCE_LENGTH);
  private readonly aad = new Uint8Array(FRAME_AAD_LENGTH);

  constructor(
    private readonly frameKey: KeyObject,
    private readonly messageId: Uint8Array,
  ) {}

  begin(sequence: number, final: boolean, length: number): void {
    this.sequence = sequence;
    writeNonce(this.nonce, sequence);
    writeFrameAad(this.aad, this.messageId, sequence, final, length);
    const decipher = createDecipheriv("aes-256-gcm", this.frameKey, this.nonce, {
      authTagLength: TAG_LENGTH,
    });
    decipher.setAAD(this.aad);
    this.decipher = decipher;
  }

  /** Unauthenticated plaintext: the caller holds it back (and zeroes it on failure) until `end`. */
  update(ciphertext: Uint8Array): Buffer {
    return this.decipher!.update(ciphertext);
  }

  /** Checks the tag; returns what GCM still held back (always empty in practice). */
  end(tag: Uint8Array): Buffer {
    const decipher = this.decipher!;
    this.decipher = undefined;
    decipher.setAuthTag(tag);
    try {
      return decipher.final();
    } catch {
      return rejectFrame("frame-tag", "TAMPERED", `frame ${this.sequence} failed authentication`);
    }
  }

  /** Drops the current frame's cipher (on any failure). */
  dispose(): void {
    this.decipher = undefined;
  }
}
