// The cases the manifest pins. Positive: inputs → exact bytes. Negative: a named
// mutation of a positive vector → the error code decrypt must produce.
import { createHash } from "node:crypto";
import { fieldRange, layoutOf } from "@kms-envelope/conformance";

function plaintext(length, seed = "pt") {
  const out = Buffer.alloc(length);
  for (let offset = 0, block = 0; offset < length; block++) {
    const digest = createHash("sha256").update(`${seed}/${block}`).digest();
    offset += digest.copy(out, offset);
  }
  return out.toString("hex");
}

const CTX = { purpose: "vectors", tenant: "acme" };

/** The largest context the default limit allows: encoded exactly 8192 bytes. */
function largestContext() {
  // u16 count + one pair: 2 + (2 + 1) + (2 + value) = 8192
  return { k: "v".repeat(8192 - 7) };
}

export const POSITIVE_CASES = [
  { id: "empty-plaintext", description: "empty plaintext: one empty final frame", plaintext: "" },
  { id: "one-byte", description: "1 byte", plaintext: plaintext(1) },
  { id: "frame-minus-one", description: "frame length − 1 bytes", plaintext: plaintext(63) },
  { id: "exactly-one-frame", description: "exactly one frame: a full final frame", plaintext: plaintext(64) },
  {
    id: "frame-plus-one",
    description: "frame length + 1: one regular frame, a 1-byte final frame",
    plaintext: plaintext(65),
  },
  {
    id: "three-full-frames",
    description: "exactly three frames: the last is a full final frame",
    plaintext: plaintext(192),
  },
  {
    id: "many-frames",
    description: "ten regular frames and a partial final frame",
    plaintext: plaintext(647),
  },
  {
    id: "multi-frame",
    description: "16-byte frames: first, middle and final frame (base of most negatives)",
    frameLength: 16,
    plaintext: plaintext(40, "multi"),
  },
  {
    id: "multi-frame-2",
    description: "same key and context as multi-frame, another DEK (for the key-swap negative)",
    frameLength: 16,
    plaintext: plaintext(40, "multi-2"),
  },
  { id: "tiny-frame-length-1", description: "frame length 1", frameLength: 1, plaintext: plaintext(5) },
  {
    id: "tiny-frame-length-16",
    description: "frame length 16, 100 bytes",
    frameLength: 16,
    plaintext: plaintext(100),
  },
  {
    id: "frame-4096",
    description: "frame length 4096, 10000 bytes",
    frameLength: 4096,
    plaintext: plaintext(10000),
  },
  {
    id: "default-frame-length",
    description: "1 MiB frame length, short plaintext",
    frameLength: 1024 * 1024,
    plaintext: plaintext(100),
  },
  {
    id: "zeros",
    description: "256 zero bytes, frame length 100",
    frameLength: 100,
    plaintext: "00".repeat(256),
  },
  {
    id: "all-byte-values",
    description: "bytes 0..255, frame length 255",
    frameLength: 255,
    plaintext: Buffer.from(Array.from({ length: 256 }, (_, i) => i)).toString("hex"),
  },
  {
    id: "non-ascii-context",
    description: "non-ASCII context keys and values",
    context: { clé: "värde", 日本: "東京", emoji: "🔐" },
    plaintext: plaintext(30),
  },
  { id: "empty-context", description: "empty encryption context", context: {}, plaintext: plaintext(30) },
  {
    id: "one-pair-context",
    description: "a single context pair",
    context: { tenant: "acme" },
    plaintext: plaintext(30),
  },
  {
    id: "empty-context-value",
    description: "a context pair with an empty value",
    context: { flag: "", tenant: "acme" },
    plaintext: plaintext(30),
  },
  {
    id: "context-byte-order",
    description: "context keys ordered by UTF-8 bytes: uppercase before lowercase, prefix first",
    context: { b: "2", a: "1", ab: "3", B: "0", é: "4" },
    plaintext: plaintext(30),
  },
  {
    id: "largest-context",
    description: "the largest context the default limit allows (8192 encoded bytes)",
    context: largestContext(),
    plaintext: plaintext(10),
  },
  {
    id: "two-wrapped-keys",
    description: "two wrapped keys (primary and one extra)",
    keys: ["k1", "k2"],
    plaintext: plaintext(100),
  },
  {
    id: "three-wrapped-keys",
    description: "three wrapped keys, one with a non-ASCII key id",
    keys: ["k1", "k2", "k3"],
    plaintext: plaintext(100),
  },
  {
    id: "three-keys-multi-frame",
    description: "three keys, non-ASCII context, several frames",
    keys: ["k3", "k1", "k2"],
    context: { région: "eu-west-1" },
    frameLength: 32,
    plaintext: plaintext(100),
  },
  {
    id: "armored",
    description: "the armored text form of a small envelope",
    armored: true,
    plaintext: plaintext(20),
  },
  {
    id: "armored-multi-frame",
    description: "the armored text form of a multi-frame envelope",
    armored: true,
    frameLength: 16,
    plaintext: plaintext(50),
  },
  {
    id: "armored-tail-2",
    description: "armored form whose last base64url group has 2 characters (1 byte, 4 unused bits)",
    armored: true,
    plaintext: plaintext(21),
  },
  {
    id: "armored-tail-3",
    description: "armored form whose last base64url group has 3 characters (2 bytes, 2 unused bits)",
    armored: true,
    plaintext: plaintext(22),
  },
  {
    id: "frame-1024-4097",
    description: "frame length 1024, 4097 bytes: four regular frames and a 1-byte final frame",
    frameLength: 1024,
    plaintext: plaintext(4097),
  },
  { id: "k2-primary", description: "a different primary key", keys: ["k2"], plaintext: plaintext(48) },
  {
    id: "context-bom",
    description:
      "context strings that start with U+FEFF (a BOM): kept as they are, so '\\uFEFFa' and 'a' are two keys",
    context: { a: "1", "\ufeffa": "2", tenant: "\ufeffacme" },
    plaintext: plaintext(30),
  },
].map((spec) => ({ keys: ["k1"], context: CTX, frameLength: 64, ...spec }));

const B = "multi-frame"; // 16-byte frames; frames 1 and 2 regular, frame 3 final with 8 bytes
const flip = (field, offset = 0, bit = 0) => ({ kind: "flip", field, offset, bit });
const set = (field, hexValue) => ({ kind: "set", field, hex: hexValue });
const truncate = (field, offset = 0) => ({ kind: "truncate", field, offset });

const n = (id, description, mutation, code, extra = {}) => ({
  id,
  description,
  base: B,
  mutation,
  code,
  ...extra,
});

export const NEGATIVE_CASES = [
  // Header: magic, version, suite
  n("magic-flip-first", "bit flip in the magic's first byte", flip("magic", 0), "MALFORMED"),
  n("magic-flip-last", "bit flip in the magic's last byte", flip("magic", 3, 7), "MALFORMED"),
  n("version-flip", "bit flip in the version (1 → 0)", flip("version", 0, 0), "UNSUPPORTED_VERSION"),
  n("version-2", "unknown version 2", set("version", "02"), "UNSUPPORTED_VERSION"),
  n("version-255", "unknown version 255", set("version", "ff"), "UNSUPPORTED_VERSION"),
  n("suite-flip", "bit flip in the suite (0x0001 → 0x0000)", flip("suite", 1, 0), "UNSUPPORTED_SUITE"),
  n("suite-2", "unknown suite 0x0002", set("suite", "0002"), "UNSUPPORTED_SUITE"),
  n("suite-high-bit", "unknown suite 0x8001", flip("suite", 0, 7), "UNSUPPORTED_SUITE"),
  // Message id: the salt of the key derivation, so the commitment no longer matches
  n("message-id-flip-first", "bit flip in the message id's first byte", flip("message-id", 0), "TAMPERED"),
  n("message-id-flip-last", "bit flip in the message id's last byte", flip("message-id", 31, 7), "TAMPERED"),
  // Frame length
  n("frame-length-zero", "frame length zero", set("frame-length", "00000000"), "MALFORMED"),
  n(
    "frame-length-over-bound",
    "frame length 16 MiB + 1, over the default bound",
    set("frame-length", "01000001"),
    "LIMIT_EXCEEDED",
  ),
  n("frame-length-max", "frame length 0xffffffff", set("frame-length", "ffffffff"), "LIMIT_EXCEEDED"),
  n(
    "frame-length-flip-high",
    "bit flip in the frame length's high byte",
    flip("frame-length", 0, 7),
    "LIMIT_EXCEEDED",
  ),
  n(
    "frame-length-flip-low",
    "bit flip in the frame length's low byte (16 → 17): the header tag fails",
    flip("frame-length", 3, 0),
    "TAMPERED",
  ),
  // Context
  n(
    "context-length-over-limit",
    "context length 0xffff, over the 8 KiB limit",
    set("context-length", "ffff"),
    "LIMIT_EXCEEDED",
  ),
  n(
    "context-length-too-short",
    "context length 1 (shorter than its count)",
    set("context-length", "0001"),
    "MALFORMED",
  ),
  n(
    "context-length-plus-one",
    "context length one byte longer than the pairs",
    flip("context-length", 1, 0),
    "MALFORMED",
  ),
  n("context-count-flip", "bit flip in the context pair count", flip("context", 1, 0), "MALFORMED"),
  n(
    "context-value-flip",
    "bit flip in a context value: the KEK's AAD and the header tag no longer match",
    flip("context", -1, 0),
    "NO_USABLE_KEY",
    { alternativeCodes: ["TAMPERED"] },
  ),
  n(
    "context-key-order",
    "context pairs out of canonical order",
    set(
      "context",
      encodePairs([
        ["tenant", "acme"],
        ["purpose", "vectors"],
      ]),
    ),
    "MALFORMED",
  ),
  n(
    "context-invalid-utf8",
    "a context value byte set to 0xff (invalid UTF-8)",
    flip("context", -1, 7),
    "MALFORMED",
  ),
  // Commitment and header tag
  n(
    "commitment-flip-first",
    "bit flip in the key commitment's first byte",
    flip("commitment", 0),
    "TAMPERED",
  ),
  n(
    "commitment-flip-last",
    "bit flip in the key commitment's last byte",
    flip("commitment", 31, 7),
    "TAMPERED",
  ),
  n("header-tag-flip-first", "bit flip in the header tag's first byte", flip("header-tag", 0), "TAMPERED"),
  n("header-tag-flip-last", "bit flip in the header tag's last byte", flip("header-tag", 15, 7), "TAMPERED"),
  // Wrapped-key list
  n("wrapped-key-count-zero", "wrapped-key count zero", set("wrapped-key-count", "0000"), "MALFORMED"),
  n(
    "wrapped-key-count-over-limit",
    "wrapped-key count 17, over the limit of 16",
    set("wrapped-key-count", "0011"),
    "LIMIT_EXCEEDED",
  ),
  n("wrapped-key-count-max", "wrapped-key count 0xffff", set("wrapped-key-count", "ffff"), "LIMIT_EXCEEDED"),
  n(
    "provider-length-zero",
    "provider id length zero",
    set("wrapped-key-0.provider-length", "00"),
    "MALFORMED",
  ),
  n("provider-length-65", "provider id length 65", set("wrapped-key-0.provider-length", "41"), "MALFORMED"),
  n(
    "provider-flip",
    "bit flip in the provider id (another provider): no KEK may unwrap",
    flip("wrapped-key-0.provider", -1, 0),
    "NO_USABLE_KEY",
  ),
  n(
    "provider-uppercase",
    "provider id with an uppercase letter",
    flip("wrapped-key-0.provider", 0, 5),
    "MALFORMED",
  ),
  n("key-id-length-zero", "key id length zero", set("wrapped-key-0.key-id-length", "0000"), "MALFORMED"),
  n(
    "key-id-length-over-limit",
    "key id length 2049, over the limit",
    set("wrapped-key-0.key-id-length", "0801"),
    "LIMIT_EXCEEDED",
  ),
  n(
    "key-id-flip",
    "bit flip in the key id: no KEK may unwrap",
    flip("wrapped-key-0.key-id", -1, 0),
    "NO_USABLE_KEY",
  ),
  n("key-id-invalid-utf8", "key id with invalid UTF-8", flip("wrapped-key-0.key-id", 0, 7), "MALFORMED"),
  n(
    "wrapped-length-zero",
    "wrapped-key length zero",
    set("wrapped-key-0.wrapped-length", "0000"),
    "MALFORMED",
  ),
  n(
    "wrapped-length-over-limit",
    "wrapped-key length 4097, over the limit",
    set("wrapped-key-0.wrapped-length", "1001"),
    "LIMIT_EXCEEDED",
  ),
  n(
    "wrapped-length-max",
    "wrapped-key length 0xffff",
    set("wrapped-key-0.wrapped-length", "ffff"),
    "LIMIT_EXCEEDED",
  ),
  n(
    "wrapped-key-flip-first",
    "bit flip in the wrapped key's first byte",
    flip("wrapped-key-0.wrapped", 0),
    "NO_USABLE_KEY",
  ),
  n(
    "wrapped-key-flip-middle",
    "bit flip in the middle of the wrapped key",
    flip("wrapped-key-0.wrapped", 30),
    "NO_USABLE_KEY",
  ),
  n(
    "wrapped-key-flip-last",
    "bit flip in the wrapped key's last byte",
    flip("wrapped-key-0.wrapped", -1, 7),
    "NO_USABLE_KEY",
  ),
  n(
    "wrapped-key-swapped",
    "the wrapped key of another message under the same key and context: it unwraps, but the key commitment fails",
    (positives) => set("wrapped-key-0.wrapped", wrappedOf(positives.get("multi-frame-2"))),
    "TAMPERED",
    { portable: false },
  ),
  // Truncated header
  n("truncated-empty", "zero bytes", truncate("magic", 0), "MALFORMED"),
  n("truncated-in-magic", "truncated inside the magic", truncate("magic", 2), "MALFORMED"),
  n("truncated-in-message-id", "truncated inside the message id", truncate("message-id", 10), "MALFORMED"),
  n("truncated-in-context", "truncated inside the context", truncate("context", 3), "MALFORMED"),
  n("truncated-in-header-tag", "truncated inside the header tag", truncate("header-tag", 8), "MALFORMED"),
  n(
    "truncated-in-wrapped-key",
    "truncated inside the wrapped key",
    truncate("wrapped-key-0.wrapped", 5),
    "MALFORMED",
  ),
  // Frames: markers, ciphertexts, tags (first, middle, final)
  n("frame-1-marker-unknown", "unknown marker on the first frame", set("frame-1.marker", "02"), "MALFORMED"),
  n("frame-2-marker-unknown", "unknown marker on the middle frame", set("frame-2.marker", "ff"), "MALFORMED"),
  n(
    "frame-1-ciphertext-flip-first",
    "bit flip in the first frame's ciphertext (first byte)",
    flip("frame-1.ciphertext", 0),
    "TAMPERED",
  ),
  n(
    "frame-1-ciphertext-flip-last",
    "bit flip in the first frame's ciphertext (last byte)",
    flip("frame-1.ciphertext", -1, 7),
    "TAMPERED",
  ),
  n(
    "frame-1-tag-flip-first",
    "bit flip in the first frame's tag (first byte)",
    flip("frame-1.tag", 0),
    "TAMPERED",
  ),
  n(
    "frame-1-tag-flip-last",
    "bit flip in the first frame's tag (last byte)",
    flip("frame-1.tag", -1, 7),
    "TAMPERED",
  ),
  n(
    "frame-2-ciphertext-flip",
    "bit flip in the middle frame's ciphertext",
    flip("frame-2.ciphertext", 7, 3),
    "TAMPERED",
  ),
  n("frame-2-tag-flip", "bit flip in the middle frame's tag", flip("frame-2.tag", 8, 1), "TAMPERED"),
  n(
    "final-ciphertext-flip",
    "bit flip in the final frame's ciphertext",
    flip("frame-last.ciphertext", 0),
    "TAMPERED",
  ),
  n(
    "final-tag-flip-first",
    "bit flip in the final frame's tag (first byte)",
    flip("frame-last.tag", 0),
    "TAMPERED",
  ),
  n(
    "final-tag-flip-last",
    "bit flip in the final frame's tag (last byte)",
    flip("frame-last.tag", -1, 7),
    "TAMPERED",
  ),
  n(
    "final-marker-regular",
    "the final frame marked as a regular frame: the envelope ends inside it",
    set("frame-last.marker", "00"),
    "TAMPERED",
  ),
  n(
    "final-length-longer-than-frame",
    "a final frame longer than the frame length (17 > 16)",
    set("frame-last.length", "00000011"),
    "MALFORMED",
  ),
  n(
    "final-length-plus-one",
    "the final frame's length one more than its bytes: truncated",
    flip("frame-last.length", 3, 0),
    "TAMPERED",
  ),
  n(
    "final-length-minus-one",
    "the final frame's length one less (8 → 7): its tag fails",
    set("frame-last.length", "00000007"),
    "TAMPERED",
  ),
  n("final-length-max", "final frame length 0xffffffff", set("frame-last.length", "ffffffff"), "MALFORMED"),
  n(
    "regular-marked-final",
    "the first frame marked final: its ciphertext is read as a length",
    set("frame-1.marker", "01"),
    "MALFORMED",
    { portable: false },
  ),
  // Truncation at every frame boundary and mid-frame
  n(
    "truncated-before-frame-1",
    "ends right after the header: no frame at all",
    truncate("frame-1", 0),
    "TAMPERED",
  ),
  n(
    "truncated-before-frame-2",
    "ends cleanly after frame 1, with no final frame",
    truncate("frame-2", 0),
    "TAMPERED",
  ),
  n(
    "truncated-before-final",
    "ends cleanly after frame 2, with no final frame",
    truncate("frame-last", 0),
    "TAMPERED",
  ),
  n(
    "truncated-in-frame-1-ciphertext",
    "ends inside frame 1's ciphertext",
    truncate("frame-1.ciphertext", 5),
    "TAMPERED",
  ),
  n("truncated-in-frame-1-tag", "ends inside frame 1's tag", truncate("frame-1.tag", 3), "TAMPERED"),
  n(
    "truncated-in-frame-2-ciphertext",
    "ends inside frame 2's ciphertext",
    truncate("frame-2.ciphertext", 8),
    "TAMPERED",
  ),
  n(
    "truncated-in-final-length",
    "ends inside the final frame's length field",
    truncate("frame-last.length", 2),
    "TAMPERED",
  ),
  n(
    "truncated-in-final-ciphertext",
    "ends inside the final frame's ciphertext",
    truncate("frame-last.ciphertext", 4),
    "TAMPERED",
  ),
  n(
    "truncated-final-tag-last-byte",
    "the final frame's tag lacks its last byte",
    truncate("frame-last.tag", -1),
    "TAMPERED",
  ),
  n(
    "truncated-after-final-marker",
    "ends right after the final frame's marker",
    truncate("frame-last.length", 0),
    "TAMPERED",
  ),
  // Reordered, duplicated, dropped frames; trailing bytes
  n("frames-1-2-swapped", "frames 1 and 2 swapped", { kind: "swap-frames", a: 1, b: 2 }, "TAMPERED"),
  n("frame-1-duplicated", "frame 1 duplicated", { kind: "duplicate-frame", frame: 1 }, "TAMPERED"),
  n("frame-2-duplicated", "frame 2 duplicated", { kind: "duplicate-frame", frame: 2 }, "TAMPERED"),
  n("frame-1-dropped", "frame 1 dropped", { kind: "drop-frame", frame: 1 }, "TAMPERED"),
  n("frame-2-dropped", "frame 2 dropped", { kind: "drop-frame", frame: 2 }, "TAMPERED"),
  n(
    "final-frame-duplicated",
    "the final frame duplicated: bytes follow the final frame",
    { kind: "duplicate-frame", frame: 3 },
    "MALFORMED",
  ),
  n("trailing-zero-byte", "one zero byte after the final frame", { kind: "append", hex: "00" }, "MALFORMED"),
  n(
    "trailing-regular-frame",
    "a regular-looking frame after the final frame",
    { kind: "append", hex: "00".repeat(33) },
    "MALFORMED",
  ),
  // Context, keys, limits at decrypt
  {
    id: "expected-context-bom-stripped",
    description: "context-bom's context without its BOMs as the expected context: a different context",
    base: "context-bom",
    mutation: { kind: "none" },
    code: "CONTEXT_MISMATCH",
    expectedContext: { a: "2", tenant: "acme" },
  },
  n(
    "wrong-expected-context",
    "expected context with a different value",
    { kind: "none" },
    "CONTEXT_MISMATCH",
    { expectedContext: { purpose: "vectors", tenant: "other" } },
  ),
  n(
    "expected-context-missing-pair",
    "the expected context lacks one of the envelope's pairs",
    { kind: "none" },
    "CONTEXT_MISMATCH",
    { expectedContext: { tenant: "acme" } },
  ),
  n(
    "expected-context-extra-pair",
    "the expected context has a pair the envelope lacks",
    { kind: "none" },
    "CONTEXT_MISMATCH",
    { expectedContext: { ...CTX, region: "eu" } },
  ),
  n(
    "expected-context-empty",
    "an empty expected context for an envelope with a context",
    { kind: "none" },
    "CONTEXT_MISMATCH",
    { expectedContext: {} },
  ),
  n("wrong-key", "decrypt with a key the envelope is not wrapped for", { kind: "none" }, "NO_USABLE_KEY", {
    keys: ["k2"],
  }),
  n(
    "limit-frame-length",
    "decrypt with a maximum frame length below the envelope's",
    { kind: "none" },
    "LIMIT_EXCEEDED",
    { limits: { maxFrameLength: 8 } },
  ),
  n(
    "limit-plaintext-size",
    "decrypt with a maximum plaintext size below the envelope's",
    { kind: "none" },
    "LIMIT_EXCEEDED",
    { limits: { maxPlaintextBytes: 20 } },
  ),
  n(
    "limit-plaintext-size-one-below",
    "decrypt with a maximum plaintext size one byte below the envelope's 40 (exactly 40 is allowed)",
    { kind: "none" },
    "LIMIT_EXCEEDED",
    { limits: { maxPlaintextBytes: 39 } },
  ),
  n(
    "limit-context-bytes",
    "decrypt with a maximum context size below the envelope's",
    { kind: "none" },
    "LIMIT_EXCEEDED",
    { limits: { maxContextBytes: 16 } },
  ),
  {
    id: "limit-wrapped-keys",
    description: "three wrapped keys with a limit of two",
    base: "three-wrapped-keys",
    mutation: { kind: "none" },
    code: "LIMIT_EXCEEDED",
    limits: { maxWrappedKeys: 2 },
  },
  {
    id: "largest-context-over-lower-limit",
    description: "the largest default context against a 8191-byte limit",
    base: "largest-context",
    mutation: { kind: "none" },
    code: "LIMIT_EXCEEDED",
    limits: { maxContextBytes: 8191 },
  },
  {
    id: "empty-final-length-one",
    description: "empty plaintext whose final frame claims 1 byte",
    base: "empty-plaintext",
    mutation: set("frame-1.length", "00000001"),
    code: "TAMPERED",
  },
  {
    id: "empty-final-tag-flip",
    description: "bit flip in the only (empty) frame's tag",
    base: "empty-plaintext",
    mutation: flip("frame-1.tag", 0),
    code: "TAMPERED",
  },
  {
    id: "three-keys-first-wrapped-flipped",
    description: "three wrapped keys, the first flipped, decrypting with its key only",
    base: "three-wrapped-keys",
    mutation: flip("wrapped-key-0.wrapped", 0),
    code: "NO_USABLE_KEY",
    keys: ["k1"],
    portable: false,
  },
  // Armored form: text that must be refused with MALFORMED (armor)
  refusedArmor(
    "armored-bad-character",
    "armored text with a character outside base64url",
    "armored",
    (text) => `${text.slice(0, 20)}*${text.slice(21)}`,
  ),
  refusedArmor("armored-wrong-prefix", "armored text with an unknown prefix", "armored", (text) =>
    text.replace("kmse1:", "kmse2:"),
  ),
  refusedArmor(
    "armored-wrong-prefix-bytes",
    "armored text with an unknown prefix, given as bytes: armored (starts with 'kmse'), not binary",
    "armored",
    (text) => text.replace("kmse1:", "kmse2:"),
    { asBytes: true },
  ),
  refusedArmor(
    "armored-whitespace-in-prefix",
    "armored text with a space inside the prefix",
    "armored",
    (text) => text.replace("kmse1:", "kmse 1:"),
  ),
  refusedArmor("armored-uppercase-prefix", "armored text with the prefix in capitals", "armored", (text) =>
    text.replace("kmse1:", "KMSE1:"),
  ),
  refusedArmor(
    "armored-form-feed",
    "armored text folded with a form feed (not in the whitespace set SP, HT, LF, CR)",
    "armored",
    (text) => `${text.slice(0, 30)}\f${text.slice(30)}`,
  ),
  refusedArmor("armored-padded", "armored text with base64 padding ('=')", "armored-tail-2", (text) => {
    const tail = (text.length - "kmse1:".length) % 4;
    if (tail === 0) throw new Error("armored-padded needs a base whose base64url would be padded");
    return text + "=".repeat(4 - tail);
  }),
  refusedArmor(
    "armored-standard-alphabet",
    "armored text in the standard base64 alphabet ('+' and '/')",
    "armored",
    (text) => `${text.slice(0, 10)}+/${text.slice(12)}`,
  ),
  refusedArmor(
    "armored-non-canonical-tail-2",
    "armored text whose last character (of 2 in its group) has a non-zero unused bit: same bytes, not the canonical text",
    "armored-tail-2",
    nonCanonicalLastCharacter,
  ),
  refusedArmor(
    "armored-non-canonical-tail-3",
    "armored text whose last character (of 3 in its group) has a non-zero unused bit: same bytes, not the canonical text",
    "armored-tail-3",
    nonCanonicalLastCharacter,
  ),
  {
    id: "armored-tampered-body",
    description: "armored text of an envelope with a flipped frame tag",
    base: "armored",
    mutation: flip("frame-last.tag", 2),
    code: "TAMPERED",
    armored: true,
  },
];

function wrappedOf(vector) {
  const envelope = Buffer.from(vector.envelope, "hex");
  const range = fieldRange(layoutOf(envelope), "wrapped-key-0.wrapped");
  return envelope.subarray(range.start, range.end).toString("hex");
}

/** Context bytes with the pairs in the order given (canonical or not). */
function encodePairs(pairs) {
  const parts = [Buffer.from([pairs.length >> 8, pairs.length & 0xff])];
  for (const [key, value] of pairs) {
    for (const text of [key, value]) {
      const bytes = Buffer.from(text, "utf8");
      parts.push(Buffer.from([bytes.length >> 8, bytes.length & 0xff]), bytes);
    }
  }
  return Buffer.concat(parts).toString("hex");
}

/** Armored text of `base` (changed by `armorText`) that decoders refuse: MALFORMED, check armor. */
function refusedArmor(id, description, base, armorText, extra = {}) {
  return {
    id,
    description,
    base,
    mutation: { kind: "none" },
    code: "MALFORMED",
    armored: true,
    armorText,
    portable: false,
    ...extra,
  };
}

const BASE64URL_ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/** The same text with the lowest unused bit of its last character set (decodes to the same bytes). */
function nonCanonicalLastCharacter(text) {
  const tail = (text.length - "kmse1:".length) % 4;
  if (tail === 0) throw new Error("armored-non-canonical needs a base whose base64url has unused bits");
  const last = BASE64URL_ALPHABET.indexOf(text.at(-1));
  return text.slice(0, -1) + BASE64URL_ALPHABET[last | 1];
}
