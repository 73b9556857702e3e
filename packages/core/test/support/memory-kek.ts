import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { canonicalContextBytes, EnvelopeError, type KeyEncryptionKey } from "../../src/index.js";

/**
 * A minimal AES-256-GCM KEK for core's own tests (core cannot depend on
 * @kms-envelope/local, which depends on core). It binds the context as AAD
 * and records every buffer it was handed or returned, so tests can prove
 * that core zeroes them.
 */
export function createMemoryKek(keyId = "memory-1", provider = "memory") {
  const key = randomBytes(32);
  const seen: Uint8Array[] = [];
  const calls = { wrap: 0, unwrap: 0 };
  const kek: KeyEncryptionKey = {
    provider,
    keyId,
    async wrap(dek, context, options) {
      if (options?.signal?.aborted) throw new EnvelopeError("ABORTED", "aborted");
      calls.wrap++;
      seen.push(dek);
      const nonce = randomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, nonce);
      cipher.setAAD(canonicalContextBytes(context));
      const body = cipher.update(dek);
      cipher.final();
      return { keyId, wrapped: Buffer.concat([nonce, body, cipher.getAuthTag()]) };
    },
    async unwrap(entry, context, options) {
      if (options?.signal?.aborted) throw new EnvelopeError("ABORTED", "aborted");
      calls.unwrap++;
      const wrapped = Buffer.from(entry.wrapped);
      if (wrapped.length !== 60) throw new EnvelopeError("MALFORMED", "wrong wrapped length");
      const decipher = createDecipheriv("aes-256-gcm", key, wrapped.subarray(0, 12));
      decipher.setAAD(canonicalContextBytes(context));
      decipher.setAuthTag(wrapped.subarray(44));
      const dek = decipher.update(wrapped.subarray(12, 44));
      try {
        decipher.final();
      } catch {
        throw new EnvelopeError("TAMPERED", "memory KEK: unwrap failed");
      }
      seen.push(dek);
      return dek;
    },
  };
  return { kek, seen, calls, key };
}
