import { constants, KeyObject, publicEncrypt } from "node:crypto";
import { invalid, requireBytes } from "../validate.js";

/** The OAEP hashes KMS RSA keys use (Cloud KMS also offers SHA-1 and SHA-512 keys). */
const OAEP_HASHES: ReadonlySet<string> = new Set(["sha1", "sha256", "sha512"]);

/**
 * RSAES-OAEP encryption of `data` (a DEK) under a KMS key's public key, MGF1
 * with the same hash: the wrapped form the KMS's own decrypt opens, made
 * here so that a wrap needs no KMS call. The result is a fresh Uint8Array.
 */
export function rsaOaepWrap(publicKey: KeyObject, data: Uint8Array, hash = "sha256"): Uint8Array {
  if (
    !(publicKey instanceof KeyObject) ||
    publicKey.type !== "public" ||
    publicKey.asymmetricKeyType !== "rsa"
  ) {
    invalid("rsaOaepWrap", "publicKey must be an RSA public KeyObject");
  }
  requireBytes(data, "rsaOaepWrap", "data");
  if (!OAEP_HASHES.has(hash)) invalid("rsaOaepWrap", `hash must be one of ${[...OAEP_HASHES].join(", ")}`);
  const wrapped = publicEncrypt(
    { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
    data,
  );
  return new Uint8Array(wrapped.buffer, wrapped.byteOffset, wrapped.byteLength);
}
