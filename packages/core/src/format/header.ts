import { EnvelopeError, type ErrorCode } from "../errors.js";
import { badArgument, checkBytes, checkCount, checkObject } from "./arguments.js";
import { ByteReader, ByteWriter, fromUtf8Strict, NeedMoreBytes, utf8 } from "./bytes.js";
import {
  COMMITMENT_LENGTH,
  FIXED_PREFIX_LENGTH,
  FORMAT_MAX_FRAME_LENGTH,
  FORMAT_VERSION,
  MAGIC,
  MESSAGE_ID_LENGTH,
  PROVIDER_ID_PATTERN,
  SUPPORTED_SUITES,
  TAG_LENGTH,
} from "./constants.js";
import { decodeContext, type EncryptionContext } from "./context.js";
import type { Limits } from "./limits.js";

/** One wrapped copy of the DEK as it travels in the envelope. */
export interface WrappedKeyEntry {
  readonly provider: string;
  readonly keyId: string;
  readonly wrapped: Uint8Array;
}

export interface EnvelopeHeader {
  readonly version: number;
  readonly suite: number;
  readonly messageId: Uint8Array;
  readonly frameLength: number;
  readonly context: EncryptionContext;
  /** Canonical context bytes, as handed to KEKs. */
  readonly contextBytes: Uint8Array;
  readonly commitment: Uint8Array;
  readonly headerTag: Uint8Array;
  readonly wrappedKeys: readonly WrappedKeyEntry[];
  /** Bytes from the magic to the end of the commitment: what the header tag authenticates. */
  readonly authenticatedBytes: Uint8Array;
  /** Bytes of the whole header, wrapped-key list included. */
  readonly length: number;
}

/**
 * The checks a decoder makes, in the order it makes them. Each error message
 * starts with the check's name; the negative test vectors name them too.
 */
export type HeaderCheck =
  | "armor"
  | "magic"
  | "version"
  | "suite"
  | "frame-length"
  | "context-length"
  | "context"
  | "wrapped-key-count"
  | "provider-id"
  | "key-id"
  | "wrapped-key-length";

function reject(check: HeaderCheck, code: ErrorCode, detail: string): never {
  throw new EnvelopeError(code, `${check}: ${detail}`);
}

export interface HeaderFields {
  readonly suite: number;
  readonly messageId: Uint8Array;
  readonly frameLength: number;
  readonly contextBytes: Uint8Array;
  readonly commitment: Uint8Array;
}

/** Bytes of the authenticated header part for a context of `contextLength` bytes. */
export function authenticatedHeaderLength(contextLength: number): number {
  checkCount(contextLength, "authenticatedHeaderLength", "contextLength");
  return FIXED_PREFIX_LENGTH + contextLength + COMMITMENT_LENGTH;
}

/**
 * magic ‖ version ‖ suite ‖ message id ‖ frame length ‖ u16 context length ‖ context ‖ commitment,
 * written into `target` from offset 0 (the encrypt hot path writes straight into the envelope).
 * Returns the length written.
 */
export function writeAuthenticatedHeader(fields: HeaderFields, target: Uint8Array): number {
  checkHeaderFields(fields, "writeAuthenticatedHeader");
  checkBytes(target, "writeAuthenticatedHeader", "target");
  if (target.length < authenticatedHeaderLength(fields.contextBytes.length)) {
    badArgument("writeAuthenticatedHeader", "target is too short for the header");
  }
  if (fields.messageId.length !== MESSAGE_ID_LENGTH || fields.commitment.length !== COMMITMENT_LENGTH) {
    throw new EnvelopeError("INVALID_ARGUMENT", "message id and commitment must be 32 bytes each");
  }
  const length = authenticatedHeaderLength(fields.contextBytes.length);
  const view = new DataView(target.buffer, target.byteOffset, length);
  target.set(MAGIC, 0);
  let at = MAGIC.length;
  view.setUint8(at, FORMAT_VERSION);
  view.setUint16(at + 1, fields.suite);
  at += 3;
  target.set(fields.messageId, at);
  at += MESSAGE_ID_LENGTH;
  view.setUint32(at, fields.frameLength);
  view.setUint16(at + 4, fields.contextBytes.length);
  at += 6;
  target.set(fields.contextBytes, at);
  at += fields.contextBytes.length;
  target.set(fields.commitment, at);
  return length;
}

function checkHeaderFields(fields: HeaderFields, where: string): void {
  checkObject(fields, where, "fields");
  checkCount(fields.suite, where, "suite");
  checkBytes(fields.messageId, where, "messageId");
  checkCount(fields.frameLength, where, "frameLength", 1);
  checkBytes(fields.contextBytes, where, "contextBytes");
  checkBytes(fields.commitment, where, "commitment");
}

export function encodeAuthenticatedHeader(fields: HeaderFields): Uint8Array<ArrayBuffer> {
  checkHeaderFields(fields, "encodeAuthenticatedHeader");
  const out = new Uint8Array(authenticatedHeaderLength(fields.contextBytes.length));
  writeAuthenticatedHeader(fields, out);
  return out;
}

/**
 * Encoded `u8 provider length ‖ provider ‖ u16 key-id length ‖ key id` per KEK, validated:
 * the same few KEKs wrap every message, so encrypt encodes and checks each once.
 */
const entryHeads = new Map<string, Uint8Array>();
const MAX_CACHED_HEADS = 256;

function entryHead(provider: string, keyId: string): Uint8Array {
  const cacheKey = `${provider}\u0000${keyId}`;
  const cached = entryHeads.get(cacheKey);
  if (cached !== undefined) return cached;
  if (!PROVIDER_ID_PATTERN.test(provider)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `provider id "${provider}" must match ${PROVIDER_ID_PATTERN}`,
    );
  }
  const keyIdBytes = utf8(keyId);
  if (keyIdBytes.length === 0 || keyIdBytes.length > 0xffff || !keyId.isWellFormed()) {
    throw new EnvelopeError("INVALID_ARGUMENT", "a key id must be 1 to 65535 bytes of well-formed Unicode");
  }
  const writer = new ByteWriter(3 + provider.length + keyIdBytes.length);
  writer.u8(provider.length).bytes(utf8(provider)).u16(keyIdBytes.length).bytes(keyIdBytes);
  const head = writer.finish();
  if (entryHeads.size >= MAX_CACHED_HEADS) entryHeads.clear();
  entryHeads.set(cacheKey, head);
  return head;
}

/** u16 count, then per key: u8 provider length, provider, u16 key-id length, key id, u16 wrapped length, wrapped. */
export function encodeWrappedKeys(entries: readonly WrappedKeyEntry[]): Uint8Array<ArrayBuffer> {
  if (!Array.isArray(entries)) badArgument("encodeWrappedKeys", "entries must be an array");
  for (const entry of entries) {
    checkObject(entry, "encodeWrappedKeys", "an entry");
    if (typeof entry.provider !== "string" || typeof entry.keyId !== "string") {
      badArgument("encodeWrappedKeys", "an entry has a string provider and keyId");
    }
    checkBytes(entry.wrapped, "encodeWrappedKeys", "an entry's wrapped");
  }
  if (entries.length === 0 || entries.length > 0xffff) {
    throw new EnvelopeError("INVALID_ARGUMENT", "an envelope carries 1 to 65535 wrapped keys");
  }
  const heads: Uint8Array[] = [];
  let length = 2;
  for (const entry of entries) {
    const head = entryHead(entry.provider, entry.keyId);
    if (entry.wrapped.length === 0 || entry.wrapped.length > 0xffff) {
      throw new EnvelopeError("INVALID_ARGUMENT", "a wrapped key must be 1 to 65535 bytes");
    }
    heads.push(head);
    length += head.length + 2 + entry.wrapped.length;
  }
  const out = new Uint8Array(length);
  const view = new DataView(out.buffer);
  view.setUint16(0, entries.length);
  let at = 2;
  for (let i = 0; i < entries.length; i++) {
    const head = heads[i]!;
    const wrapped = entries[i]!.wrapped;
    out.set(head, at);
    at += head.length;
    view.setUint16(at, wrapped.length);
    out.set(wrapped, at + 2);
    at += 2 + wrapped.length;
  }
  return out;
}

/**
 * Decodes a header from the start of `input`. Throws `NeedMoreBytes` when the
 * input ends inside the header (the incremental parser waits for more), and a
 * typed `EnvelopeError` for anything invalid. Every count and length is checked
 * against `limits` as soon as it is read, before the bytes it announces.
 */
export function decodeHeaderPrefix(input: Uint8Array, limits: Limits): EnvelopeHeader {
  checkBytes(input, "decodeHeader", "input");
  checkObject(limits, "decodeHeader", "limits");
  const reader = new ByteReader(input);
  const magic = reader.bytes(MAGIC.length);
  if (!magic.every((byte, i) => byte === MAGIC[i])) {
    // "kmse" (lowercase) starts every armored form: binary-only decoders (streams) name it.
    if (magic.every((byte, i) => byte === (MAGIC[i]! | 0x20))) {
      reject("armor", "MALFORMED", "armored text: dearmor it first (this decoder takes the binary form)");
    }
    reject("magic", "MALFORMED", "not a kms-envelope envelope");
  }
  const version = reader.u8();
  if (version !== FORMAT_VERSION)
    reject("version", "UNSUPPORTED_VERSION", `format version ${version} is not supported`);
  const suite = reader.u16();
  if (!SUPPORTED_SUITES.has(suite))
    reject("suite", "UNSUPPORTED_SUITE", `suite 0x${suite.toString(16)} is not supported`);
  const messageId = reader.bytes(MESSAGE_ID_LENGTH);
  const frameLength = reader.u32();
  if (frameLength === 0) reject("frame-length", "MALFORMED", "frame length is zero");
  if (
    frameLength > FORMAT_MAX_FRAME_LENGTH ||
    frameLength > limits.maxFrameLength ||
    frameLength < limits.minFrameLength
  ) {
    reject("frame-length", "LIMIT_EXCEEDED", `frame length ${frameLength} is outside the allowed bounds`);
  }
  const contextLength = reader.u16();
  if (contextLength > limits.maxContextBytes) {
    reject(
      "context-length",
      "LIMIT_EXCEEDED",
      `encryption context of ${contextLength} bytes exceeds the limit`,
    );
  }
  if (contextLength < 2) reject("context-length", "MALFORMED", "encryption context length is too short");
  const contextBytes = reader.bytes(contextLength);
  let context: EncryptionContext;
  try {
    context = decodeContext(contextBytes);
  } catch (error) {
    const detail = error instanceof Error ? error.message : "invalid";
    reject("context", "MALFORMED", detail);
  }
  const commitment = reader.bytes(COMMITMENT_LENGTH);
  const authenticatedLength = reader.offset;
  const headerTag = reader.bytes(TAG_LENGTH);
  const wrappedKeys = decodeWrappedKeys(reader, limits);
  return {
    version,
    suite,
    messageId,
    frameLength,
    context,
    contextBytes,
    commitment,
    headerTag,
    wrappedKeys,
    authenticatedBytes: input.subarray(0, authenticatedLength),
    length: reader.offset,
  };
}

function decodeWrappedKeys(reader: ByteReader, limits: Limits): WrappedKeyEntry[] {
  const count = reader.u16();
  if (count === 0) reject("wrapped-key-count", "MALFORMED", "the envelope has no wrapped key");
  if (count > limits.maxWrappedKeys) {
    reject(
      "wrapped-key-count",
      "LIMIT_EXCEEDED",
      `${count} wrapped keys exceed the limit of ${limits.maxWrappedKeys}`,
    );
  }
  const entries: WrappedKeyEntry[] = [];
  for (let i = 0; i < count; i++) {
    const providerLength = reader.u8();
    if (providerLength === 0 || providerLength > 64)
      reject("provider-id", "MALFORMED", "provider id length is invalid");
    const provider = fromUtf8Strict(reader.bytes(providerLength));
    if (provider === undefined || !PROVIDER_ID_PATTERN.test(provider)) {
      reject("provider-id", "MALFORMED", "provider id has invalid characters");
    }
    const keyIdLength = reader.u16();
    if (keyIdLength === 0) reject("key-id", "MALFORMED", "key id is empty");
    if (keyIdLength > limits.maxKeyIdBytes) reject("key-id", "LIMIT_EXCEEDED", "key id exceeds the limit");
    const keyId = fromUtf8Strict(reader.bytes(keyIdLength));
    if (keyId === undefined) reject("key-id", "MALFORMED", "key id is not valid UTF-8");
    const wrappedLength = reader.u16();
    if (wrappedLength === 0) reject("wrapped-key-length", "MALFORMED", "wrapped key is empty");
    if (wrappedLength > limits.maxWrappedKeyBytes) {
      reject("wrapped-key-length", "LIMIT_EXCEEDED", "wrapped key exceeds the limit");
    }
    entries.push({ provider, keyId, wrapped: reader.bytes(wrappedLength) });
  }
  return entries;
}

/** Decodes the header at the start of a complete envelope. */
export function decodeHeader(input: Uint8Array, limits: Limits): EnvelopeHeader {
  try {
    return decodeHeaderPrefix(input, limits);
  } catch (error) {
    if (error instanceof NeedMoreBytes)
      throw new EnvelopeError("MALFORMED", "header: the envelope ends inside its header");
    throw error;
  }
}

/** Header bytes with a different wrapped-key list; the authenticated part and tag are copied as they are. */
export function replaceWrappedKeys(
  header: EnvelopeHeader,
  entries: readonly WrappedKeyEntry[],
): Uint8Array<ArrayBuffer> {
  checkObject(header, "replaceWrappedKeys", "header");
  checkBytes(header.authenticatedBytes, "replaceWrappedKeys", "header.authenticatedBytes");
  checkBytes(header.headerTag, "replaceWrappedKeys", "header.headerTag");
  const list = encodeWrappedKeys(entries);
  const out = new Uint8Array(header.authenticatedBytes.length + TAG_LENGTH + list.length);
  out.set(header.authenticatedBytes, 0);
  out.set(header.headerTag, header.authenticatedBytes.length);
  out.set(list, header.authenticatedBytes.length + TAG_LENGTH);
  return out;
}
