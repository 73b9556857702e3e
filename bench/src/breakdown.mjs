/**
 * Where the time of one 1 KiB message goes: each step timed alone (CPU
 * time, median of interleaved repetitions), next to the whole operation.
 * Steps are written with node:crypto the way core and the local KEK run them.
 */
import { createCipheriv, createHmac, createSecretKey, hash, randomBytes, randomFillSync } from "node:crypto";
import { createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { prepareMessage, sealMessage } from "@kms-envelope/core/testing";
import { createLocalKek } from "@kms-envelope/local";
import { interleaved } from "./measure.mjs";

/** HMAC-SHA512 from two one-shot hashes (core's crypto/derive.ts also reuses scratch buffers and the PRK's padded key). */
function hmacByHash(key, message) {
  const inner = Buffer.alloc(128 + message.length, 0x36);
  const outer = Buffer.alloc(128 + 64, 0x5c);
  for (let i = 0; i < key.length; i++) {
    inner[i] ^= key[i];
    outer[i] ^= key[i];
  }
  inner.set(message, 128);
  outer.set(hash("sha512", inner, "buffer"), 128);
  return hash("sha512", outer, "buffer");
}

export async function breakdown({ repetitions, minMs }) {
  const keyBytes = randomBytes(32);
  const keyObject = createSecretKey(keyBytes);
  const iv = randomBytes(12);
  const plaintext = randomBytes(1024);
  const context = { purpose: "bench" };
  const kek = createLocalKek({ key: randomBytes(32), keyId: "bench" });
  const keyring = createKeyring({ primary: kek });
  const materials = await prepareMessage({ keyring, context });
  const envelope = await encrypt(plaintext, { keyring, context });
  const wrapped = await kek.wrap(randomBytes(32), context);
  const entry = { provider: "local", keyId: "bench", wrapped: wrapped.wrapped };
  const info = Buffer.from("kms-envelope v1 frame key\x00\x01\x01");
  const gcm = (key) => () => {
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.update(plaintext);
    cipher.final();
    cipher.getAuthTag();
  };
  const steps = [
    { name: "AES-256-GCM 1 KiB, KeyObject key (the limit)", operation: gcm(keyObject) },
    { name: "AES-256-GCM 1 KiB, raw key bytes", operation: gcm(keyBytes) },
    { name: "createSecretKey (32 bytes)", operation: () => createSecretKey(keyBytes) },
    {
      name: "HMAC-SHA512, KeyObject key",
      operation: () => createHmac("sha512", keyObject).update(info).digest(),
    },
    {
      name: "HMAC-SHA512, raw key bytes",
      operation: () => createHmac("sha512", keyBytes).update(info).digest(),
    },
    {
      name: "HKDF-SHA512 from 6 one-shot SHA-512 (fresh buffers each)",
      operation: () => {
        const prk = hmacByHash(iv, keyBytes);
        hmacByHash(prk, info);
        hmacByHash(prk, info);
      },
    },
    {
      name: "HKDF-SHA512 as 3 createHmac with KeyObjects",
      operation: () => {
        const prk = createHmac("sha512", createSecretKey(iv)).update(keyBytes).digest();
        const prkKey = createSecretKey(prk);
        createHmac("sha512", prkKey).update(info).digest();
        createHmac("sha512", prkKey).update(info).digest();
      },
    },
    { name: "randomFillSync 32 bytes", operation: () => randomFillSync(Buffer.allocUnsafe(32)) },
    { name: "local KEK wrap (as shipped)", operation: () => kek.wrap(keyBytes, context) },
    {
      // What the local KEK's wrap would cost holding its key as a KeyObject (same bytes out).
      name: "local-style wrap with a KeyObject key",
      operation: () => {
        const nonce = randomFillSync(Buffer.allocUnsafe(12));
        const cipher = createCipheriv("aes-256-gcm", keyObject, nonce);
        cipher.setAAD(info);
        const body = cipher.update(keyBytes);
        cipher.final();
        Buffer.concat([nonce, body, cipher.getAuthTag()]);
      },
    },
    { name: "local KEK unwrap (as shipped)", operation: () => kek.unwrap(entry, context) },
    {
      name: "sealMessage 1 KiB (derive, header, tag, frame; no KMS)",
      operation: () => sealMessage(materials, plaintext),
    },
    { name: "encrypt 1 KiB (whole call)", operation: () => encrypt(plaintext, { keyring, context }) },
    {
      name: "decrypt 1 KiB (whole call)",
      operation: () => decrypt(envelope, { keyring, expectedContext: context }),
    },
  ];
  const medians = await interleaved(steps, { repetitions, warmupMs: 50, minMs, minOps: 50 });
  return steps.map((step) => ({ step: step.name, microseconds: 1e6 / medians.get(step.name) }));
}
