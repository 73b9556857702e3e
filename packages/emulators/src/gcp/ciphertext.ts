import {
  createCipheriv,
  createDecipheriv,
  constants as cryptoConstants,
  type KeyObject,
  privateDecrypt,
  randomBytes,
} from "node:crypto";

/**
 * The emulator's own symmetric ciphertext (the real one is opaque too):
 * magic, the key's tag, the version number, a GCM nonce, the sealed bytes,
 * the GCM tag. The version is in clear so Decrypt can pick it; the header
 * is authenticated with the caller's AAD.
 */
const MAGIC = Buffer.from([0x65, 0x6d, 0x75, 0x01]);
const TAG_LENGTH = 8;
const HEADER_LENGTH = MAGIC.length + TAG_LENGTH + 4;
const NONCE_LENGTH = 12;
const GCM_TAG_LENGTH = 16;

/** AES-256-GCM under `secret`, for version `versionNumber` of the key tagged `keyTag`. */
export function sealSymmetric(
  keyTag: Buffer,
  versionNumber: number,
  secret: Buffer,
  plaintext: Buffer,
  aad: Buffer,
): Buffer {
  const header = Buffer.alloc(HEADER_LENGTH);
  MAGIC.copy(header, 0);
  keyTag.copy(header, MAGIC.length);
  header.writeUInt32BE(versionNumber, MAGIC.length + TAG_LENGTH);
  const nonce = randomBytes(NONCE_LENGTH);
  const cipher = createCipheriv("aes-256-gcm", secret, nonce);
  cipher.setAAD(Buffer.concat([header, aad]));
  const sealed = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return Buffer.concat([header, nonce, sealed, cipher.getAuthTag()]);
}

/** The version number a ciphertext of the key tagged `keyTag` names; undefined if it is not one. */
export function symmetricVersionOf(keyTag: Buffer, ciphertext: Buffer): number | undefined {
  if (ciphertext.length < HEADER_LENGTH + NONCE_LENGTH + GCM_TAG_LENGTH) return undefined;
  if (!ciphertext.subarray(0, MAGIC.length).equals(MAGIC)) return undefined;
  if (!ciphertext.subarray(MAGIC.length, MAGIC.length + TAG_LENGTH).equals(keyTag)) return undefined;
  return ciphertext.readUInt32BE(MAGIC.length + TAG_LENGTH);
}

/** The plaintext, or undefined when the ciphertext or AAD does not authenticate. */
export function openSymmetric(secret: Buffer, ciphertext: Buffer, aad: Buffer): Buffer | undefined {
  const header = ciphertext.subarray(0, HEADER_LENGTH);
  const nonce = ciphertext.subarray(HEADER_LENGTH, HEADER_LENGTH + NONCE_LENGTH);
  const sealed = ciphertext.subarray(HEADER_LENGTH + NONCE_LENGTH, ciphertext.length - GCM_TAG_LENGTH);
  try {
    const decipher = createDecipheriv("aes-256-gcm", secret, nonce);
    decipher.setAAD(Buffer.concat([header, aad]));
    decipher.setAuthTag(ciphertext.subarray(ciphertext.length - GCM_TAG_LENGTH));
    return Buffer.concat([decipher.update(sealed), decipher.final()]);
  } catch {
    return undefined;
  }
}

/** RSAES-OAEP decryption with `hash`, or undefined when the ciphertext does not open. */
export function openAsymmetric(privateKey: KeyObject, hash: string, ciphertext: Buffer): Buffer | undefined {
  try {
    return privateDecrypt(
      { key: privateKey, padding: cryptoConstants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      ciphertext,
    );
  } catch {
    return undefined;
  }
}
