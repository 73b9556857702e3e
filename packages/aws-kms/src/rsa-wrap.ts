import { constants, createHash, type KeyObject, publicEncrypt, timingSafeEqual } from "node:crypto";
import { canonicalContextBytes, DEK_LENGTH, type EncryptionContext, EnvelopeError } from "@kms-envelope/core";

/**
 * The RSA path's wrapped value: RSAES-OAEP-SHA-256(DEK ‖ SHA-256(canonical
 * context)). KMS binds no encryption context to asymmetric keys, so the
 * digest does: an entry unwrapped under another context is rejected here
 * (defence in depth; core's header tag binds the context in any case).
 */
const DIGEST_LENGTH = 32;

const contextDigest = (context: EncryptionContext) =>
  createHash("sha256").update(canonicalContextBytes(context)).digest();

export function rsaWrap(publicKey: KeyObject, dek: Uint8Array, context: EncryptionContext): Uint8Array {
  const message = Buffer.concat([dek, contextDigest(context)]);
  try {
    return publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      message,
    );
  } finally {
    message.fill(0);
  }
}

/** Checks what KMS decrypted and returns the DEK (a copy; the caller's buffer is zeroed). */
export function rsaOpen(plaintext: Uint8Array, context: EncryptionContext): Uint8Array {
  try {
    if (plaintext.length !== DEK_LENGTH + DIGEST_LENGTH) {
      throw new EnvelopeError("MALFORMED", "the RSA-wrapped value is not a DEK and context digest");
    }
    if (!timingSafeEqual(plaintext.subarray(DEK_LENGTH), contextDigest(context))) {
      throw new EnvelopeError("TAMPERED", "the RSA-wrapped data key was made for another encryption context");
    }
    return plaintext.slice(0, DEK_LENGTH);
  } finally {
    plaintext.fill(0);
  }
}
