// A second, independent encoder of envelope format v1, written from docs/format.md and
// docs/providers/local.md alone with plain node:crypto (nothing from @kms-envelope/*):
// HKDF from crypto.hkdfSync, AES-256-GCM from createCipheriv, every byte laid out here.
// generate.mjs makes the vectors marked `sealedBy: "reference"` with it, and checks that
// core's encoder produces the very same bytes, so the vectors do not come only from the
// code they test.
import { createCipheriv, hkdfSync } from "node:crypto";

const SUITE = 0x0001;

const u8 = (value) => Buffer.from([value]);
const u16 = (value) => {
  const out = Buffer.alloc(2);
  out.writeUInt16BE(value);
  return out;
};
const u32 = (value) => {
  const out = Buffer.alloc(4);
  out.writeUInt32BE(value);
  return out;
};

/** format.md, "Encryption context": u16 count, pairs by ascending key UTF-8 bytes. */
export function referenceContext(context) {
  const pairs = Object.entries(context).map(([key, value]) => [
    Buffer.from(key, "utf8"),
    Buffer.from(value, "utf8"),
  ]);
  pairs.sort(([a], [b]) => Buffer.compare(a, b));
  return Buffer.concat([
    u16(pairs.length),
    ...pairs.flatMap(([key, value]) => [u16(key.length), key, u16(value.length), value]),
  ]);
}

/** format.md, "Keys": HKDF-SHA512, salt = message id, info = label ‖ suite, 32 bytes. */
function hkdf(dek, messageId, label) {
  const info = Buffer.concat([Buffer.from(label, "ascii"), u16(SUITE)]);
  return Buffer.from(hkdfSync("sha512", dek, messageId, info, 32));
}

function gcm(key, nonce, aad, plaintext) {
  const cipher = createCipheriv("aes-256-gcm", key, nonce);
  cipher.setAAD(aad);
  const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
  return { ciphertext, tag: cipher.getAuthTag() };
}

/** docs/providers/local.md, "Wrapping": nonce ‖ AES-256-GCM(DEK) ‖ tag, AAD bound to key, version, context. */
export function referenceLocalWrap({ key, keyId, version = 0, nonce, dek, context }) {
  const id = Buffer.from(keyId, "utf8");
  const aad = Buffer.concat([
    Buffer.from("kms-envelope local v1", "ascii"),
    u16(id.length),
    id,
    u32(version),
    referenceContext(context),
  ]);
  const { ciphertext, tag } = gcm(key, nonce, aad, dek);
  return Buffer.concat([nonce, ciphertext, tag]);
}

/**
 * The whole envelope: header (authenticated part, header tag, wrapped-key list in the
 * order given) and body (format.md, "Body").
 */
export function referenceSeal({ dek, messageId, context, frameLength, wrappedKeys, plaintext }) {
  const contextBytes = referenceContext(context);
  const frameKey = hkdf(dek, messageId, "kms-envelope v1 frame key");
  const commitment = hkdf(dek, messageId, "kms-envelope v1 key commitment");
  const authenticated = Buffer.concat([
    Buffer.from("KMSE", "ascii"),
    u8(1),
    u16(SUITE),
    messageId,
    u32(frameLength),
    u16(contextBytes.length),
    contextBytes,
    commitment,
  ]);
  const headerTag = gcm(frameKey, Buffer.alloc(12), authenticated, Buffer.alloc(0)).tag;
  const list = [u16(wrappedKeys.length)];
  for (const { provider, keyId, wrapped } of wrappedKeys) {
    const id = Buffer.from(keyId, "utf8");
    list.push(
      u8(provider.length),
      Buffer.from(provider, "ascii"),
      u16(id.length),
      id,
      u16(wrapped.length),
      wrapped,
    );
  }
  const frames = [];
  const regular = plaintext.length === 0 ? 0 : Math.floor((plaintext.length - 1) / frameLength);
  for (let s = 1; s <= regular + 1; s++) {
    const final = s === regular + 1;
    const chunk = plaintext.subarray((s - 1) * frameLength, final ? plaintext.length : s * frameLength);
    const nonce = Buffer.concat([Buffer.alloc(8), u32(s)]);
    const aad = Buffer.concat([messageId, u32(s), u8(final ? 1 : 0), u32(chunk.length)]);
    const { ciphertext, tag } = gcm(frameKey, nonce, aad, chunk);
    frames.push(final ? Buffer.concat([u8(1), u32(chunk.length)]) : u8(0), ciphertext, tag);
  }
  return Buffer.concat([authenticated, headerTag, ...list, ...frames]);
}
