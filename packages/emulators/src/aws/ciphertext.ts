import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { kmsError } from "./kms-error.js";

/**
 * The emulator's symmetric ciphertext blob. Like AWS's, it is opaque to
 * callers but names the key that made it, so Decrypt works without a KeyId:
 *   u8 version (1) ‖ u8 id length ‖ key id (ASCII) ‖ 12-byte IV ‖ AES-256-GCM ciphertext ‖ 16-byte tag
 * The key id (not the ARN) is embedded, so a multi-Region replica, which has
 * the same id in another region, decrypts what its primary encrypted.
 * The AAD is the key id and the canonical encryption context, so a different
 * or missing context fails, as in AWS.
 */
const VERSION = 1;
const IV_LENGTH = 12;
const TAG_LENGTH = 16;

export type KmsContext = Readonly<Record<string, string>>;

export function sealBlob(secret: Buffer, keyId: string, plaintext: Buffer, context: KmsContext): Buffer {
  const id = Buffer.from(keyId, "ascii");
  const iv = randomBytes(IV_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", secret, iv);
  cipher.setAAD(aad(keyId, context));
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([Buffer.from([VERSION, id.length]), id, iv, body, cipher.getAuthTag()]);
}

/** The key id a blob names, or InvalidCiphertextException when it is not one of ours. */
export function blobKeyId(blob: Buffer): string {
  if (blob.length < 2 + IV_LENGTH + TAG_LENGTH || blob[0] !== VERSION) throw invalid();
  const length = blob[1]!;
  if (blob.length < 2 + length + IV_LENGTH + TAG_LENGTH) throw invalid();
  return blob.subarray(2, 2 + length).toString("ascii");
}

export function openBlob(secret: Buffer, blob: Buffer, context: KmsContext): Buffer {
  const keyId = blobKeyId(blob);
  const start = 2 + Buffer.byteLength(keyId, "ascii");
  const iv = blob.subarray(start, start + IV_LENGTH);
  const tag = blob.subarray(blob.length - TAG_LENGTH);
  try {
    const decipher = createDecipheriv("aes-256-gcm", secret, iv);
    decipher.setAAD(aad(keyId, context));
    decipher.setAuthTag(tag);
    return Buffer.concat([
      decipher.update(blob.subarray(start + IV_LENGTH, blob.length - TAG_LENGTH)),
      decipher.final(),
    ]);
  } catch {
    throw invalid();
  }
}

function aad(keyId: string, context: KmsContext): Buffer {
  const pairs = Object.entries(context).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return Buffer.from(JSON.stringify([keyId, pairs]), "utf8");
}

// AWS's message carries no detail (it does not say whether the context or the bytes were wrong).
const invalid = () => kmsError("InvalidCiphertextException", "");
