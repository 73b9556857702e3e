import { type CipherGCM, createCipheriv, createDecipheriv } from "node:crypto";
import { EnvelopeError } from "../errors.js";
import { NONCE_LENGTH, TAG_LENGTH } from "../format/constants.js";
import { writeNonce } from "../format/frame.js";

const ALGORITHM = "aes-256-gcm";
const HEADER_NONCE = writeNonce(new Uint8Array(NONCE_LENGTH), 0);

/** The header tag: AES-256-GCM with nonce 0 (no frame uses it), AAD = authenticated header, empty plaintext. */
export function computeHeaderTag(frameKey: Uint8Array, authenticatedHeader: Uint8Array): Buffer {
  const cipher = createCipheriv(ALGORITHM, frameKey, HEADER_NONCE, { authTagLength: TAG_LENGTH });
  cipher.setAAD(authenticatedHeader);
  cipher.final();
  return cipher.getAuthTag();
}

export function verifyHeaderTag(
  frameKey: Uint8Array,
  authenticatedHeader: Uint8Array,
  tag: Uint8Array,
): void {
  const decipher = createDecipheriv(ALGORITHM, frameKey, HEADER_NONCE, { authTagLength: TAG_LENGTH });
  decipher.setAAD(authenticatedHeader);
  decipher.setAuthTag(tag);
  try {
    decipher.final();
  } catch {
    throw new EnvelopeError("TAMPERED", "header-tag: the header failed authentication");
  }
}

/** A cipher for one frame with its AAD set; the caller feeds the plaintext in any number of updates. */
export function createFrameCipher(frameKey: Uint8Array, nonce: Uint8Array, aad: Uint8Array): CipherGCM {
  const cipher = createCipheriv(ALGORITHM, frameKey, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  return cipher;
}

/** Encrypts one frame; returns ciphertext and tag (both fresh buffers from OpenSSL). */
export function sealFrame(
  frameKey: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  plaintext: Uint8Array,
): { ciphertext: Buffer; tag: Buffer } {
  const cipher = createCipheriv(ALGORITHM, frameKey, nonce, { authTagLength: TAG_LENGTH });
  cipher.setAAD(aad);
  const ciphertext = cipher.update(plaintext);
  cipher.final();
  return { ciphertext, tag: cipher.getAuthTag() };
}

/**
 * Decrypts one frame and returns its plaintext only if the tag verifies; on
 * failure the unauthenticated output is zeroed before the error is thrown.
 */
export function openFrame(
  frameKey: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  ciphertext: Uint8Array,
  tag: Uint8Array,
  sequence: number,
): Buffer {
  const decipher = createDecipheriv(ALGORITHM, frameKey, nonce, { authTagLength: TAG_LENGTH });
  decipher.setAAD(aad);
  decipher.setAuthTag(tag);
  const plaintext = decipher.update(ciphertext);
  try {
    decipher.final();
  } catch {
    plaintext.fill(0);
    throw new EnvelopeError("TAMPERED", `frame-tag: frame ${sequence} failed authentication`);
  }
  return plaintext;
}
