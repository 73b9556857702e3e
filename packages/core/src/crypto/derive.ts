import { createHash, createSecretKey, hash, type KeyObject } from "node:crypto";
import { utf8 } from "../format/bytes.js";
import { COMMITMENT_LENGTH, DEK_LENGTH } from "../format/constants.js";

/**
 * HKDF-SHA512 (RFC 5869) written as its HMAC calls: one extract with the
 * message id as salt, then one expand block per output, each under its own
 * `info` label; and each HMAC written as its two SHA-512 calls (RFC 2104)
 * over module-owned scratch buffers that are zeroed after each derivation.
 * Measured on Node 24 (docs/performance.md): `hkdfSync` ~11 µs, three
 * `createHmac` calls ~15 to 22 µs (key handling dominates), six one-shot
 * `crypto.hash` calls ~11.5 µs; and the DEK and PRK never sit in a
 * `KeyObject` we cannot zero (only the frame key does: it is used by ciphers).
 */
const BLOCK = 128;
const DIGEST = 64;
/** Longest HMAC message here: the DEK (32) or an info label (~35 bytes). */
const MAX_MESSAGE = 256;
// Plain Uint8Arrays: their fill is V8's builtin, cheaper than Buffer's checked fill.
const innerInput = new Uint8Array(BLOCK + MAX_MESSAGE);
const outerInput = new Uint8Array(BLOCK + DIGEST);

/** Whether `crypto.hash` exists and returns a Buffer for "buffer" (Node ≥ 21.7 / 20.12 with Buffer output). */
const oneShot = (() => {
  try {
    return typeof hash === "function" && Buffer.isBuffer(hash("sha512", new Uint8Array(0), "buffer"));
  } catch {
    return false;
  }
})();

function sha512(data: Uint8Array): Buffer {
  return oneShot
    ? (hash("sha512", data, "buffer") as unknown as Buffer)
    : createHash("sha512").update(data).digest();
}

/** `innerInput`'s first `BLOCK + length` bytes, as one view per message length (three in all). */
const innerViews = new Map<number, Uint8Array>();

function innerView(messageLength: number): Uint8Array {
  let view = innerViews.get(messageLength);
  if (view === undefined) {
    view = innerInput.subarray(0, BLOCK + messageLength);
    innerViews.set(messageLength, view);
  }
  return view;
}

/**
 * HMAC-SHA512 (RFC 2104) under the key last given to `setHmacKey`: keys of at
 * most one block (ours: 32 and 64 bytes), so the padded key is the key itself.
 */
function setHmacKey(key: Uint8Array): void {
  if (key.length > BLOCK) throw new Error("hmacSha512: key too long");
  innerInput.fill(0x36, 0, BLOCK);
  outerInput.fill(0x5c, 0, BLOCK);
  for (let i = 0; i < key.length; i++) {
    innerInput[i]! ^= key[i]!;
    outerInput[i]! ^= key[i]!;
  }
}

/** One HMAC under the current key; the caller zeroes the result. */
function hmacSha512(message: Uint8Array): Buffer {
  if (message.length > MAX_MESSAGE) throw new Error("hmacSha512: message too long");
  innerInput.set(message, BLOCK);
  const inner = sha512(innerView(message.length));
  outerInput.set(inner, BLOCK);
  inner.fill(0);
  return sha512(outerInput);
}

/** Zeroes the padded keys and the last message and inner digest. */
function clearHmacState(): void {
  innerInput.fill(0);
  outerInput.fill(0);
}

const FRAME_KEY_LABEL = "kms-envelope v1 frame key";
const COMMITMENT_LABEL = "kms-envelope v1 key commitment";

function info(label: string, suite: number): Uint8Array {
  const text = utf8(label);
  const out = new Uint8Array(text.length + 3);
  out.set(text, 0);
  out[text.length] = suite >> 8;
  out[text.length + 1] = suite & 0xff;
  out[text.length + 2] = 0x01; // HKDF-Expand block counter T(1)
  return out;
}

const infoCache = new Map<number, { frameKey: Uint8Array; commitment: Uint8Array }>();

function infosFor(suite: number) {
  let cached = infoCache.get(suite);
  if (cached === undefined) {
    cached = { frameKey: info(FRAME_KEY_LABEL, suite), commitment: info(COMMITMENT_LABEL, suite) };
    infoCache.set(suite, cached);
  }
  return cached;
}

export interface DerivedKeys {
  /**
   * AES-256-GCM key for the header tag and every frame, as the one `KeyObject`
   * they share (crypto/aes-gcm.ts: raw key bytes cost ~20 µs per cipher). Its
   * derived bytes are zeroed here; Node clears the object's copy when it is freed.
   */
  readonly frameKey: KeyObject;
  /** Key commitment stored in the header and checked before any frame is opened. */
  readonly commitment: Buffer;
}

export function deriveKeys(dek: Uint8Array, messageId: Uint8Array, suite: number): DerivedKeys {
  const labels = infosFor(suite);
  let frameBlock: Buffer;
  let commitmentBlock: Buffer;
  try {
    setHmacKey(messageId);
    const prk = hmacSha512(dek);
    // Both expand blocks are HMACs under the PRK: its padded key is built once for the two.
    setHmacKey(prk);
    prk.fill(0);
    frameBlock = hmacSha512(labels.frameKey);
    commitmentBlock = hmacSha512(labels.commitment);
  } finally {
    // The scratch buffers hold the padded PRK and the DEK: cleared on every path.
    clearHmacState();
  }
  const frameKey = createSecretKey(frameBlock.subarray(0, DEK_LENGTH));
  const commitment = Buffer.from(commitmentBlock.subarray(0, COMMITMENT_LENGTH));
  frameBlock.fill(0);
  commitmentBlock.fill(0);
  return { frameKey, commitment };
}
