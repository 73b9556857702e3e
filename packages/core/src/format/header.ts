import { EnvelopeError, type ErrorCode } from "../errors.js";
import type { Limits } from "../limits.js";
import { ByteReader, ByteWriter, fromUtf8Strict, NeedMoreBytes, utf8 } from "./bytes.js";
import {
  COMMITMENT_LENGTH,
  FORMAT_MAX_FRAME_LENGTH,
  FORMAT_VERSION,
  MAGIC,
  MESSAGE_ID_LENGTH,
  PROVIDER_ID_PATTERN,
  SUPPORTED_SUITES,
  TAG_LENGTH,
} from "./constants.js";
import { decodeContext, type EncryptionContext } from "./context.js";

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

/** magic ‖ version ‖ suite ‖ message id ‖ frame length ‖ u16 context length ‖ context ‖ commitment */
export function encodeAuthenticatedHeader(fields: HeaderFields): Uint8Array<ArrayBuffer> {
  const writer = new ByteWriter(64 + fields.contextBytes.length);
  writer.bytes(MAGIC).u8(FORMAT_VERSION).u16(fields.suite);
  writer.bytes(fields.messageId).u32(fields.frameLength);
  writer.u16(fields.contextBytes.length).bytes(fields.contextBytes);
  writer.bytes(fields.commitment);
  return writer.finish();
}

/** u16 count, then per key: u8 provider length, provider, u16 key-id length, key id, u16 wrapped length, wrapped. */
export function encodeWrappedKeys(entries: readonly WrappedKeyEntry[]): Uint8Array<ArrayBuffer> {
  if (entries.length === 0 || entries.length > 0xffff) {
    throw new EnvelopeError("INVALID_ARGUMENT", "an envelope carries 1 to 65535 wrapped keys");
  }
  const writer = new ByteWriter(256);
  writer.u16(entries.length);
  for (const entry of entries) {
    if (!PROVIDER_ID_PATTERN.test(entry.provider)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `provider id "${entry.provider}" must match ${PROVIDER_ID_PATTERN}`,
      );
    }
    const keyId = utf8(entry.keyId);
    if (keyId.length === 0 || keyId.length > 0xffff || !entry.keyId.isWellFormed()) {
      throw new EnvelopeError("INVALID_ARGUMENT", "a key id must be 1 to 65535 bytes of well-formed Unicode");
    }
    if (entry.wrapped.length === 0 || entry.wrapped.length > 0xffff) {
      throw new EnvelopeError("INVALID_ARGUMENT", "a wrapped key must be 1 to 65535 bytes");
    }
    writer.u8(entry.provider.length).bytes(utf8(entry.provider));
    writer.u16(keyId.length).bytes(keyId);
    writer.u16(entry.wrapped.length).bytes(entry.wrapped);
  }
  return writer.finish();
}

/**
 * Decodes a header from the start of `input`. Throws `NeedMoreBytes` when the
 * input ends inside the header (the incremental parser waits for more), and a
 * typed `EnvelopeError` for anything invalid. Every count and length is checked
 * against `limits` as soon as it is read, before the bytes it announces.
 */
export function decodeHeaderPrefix(input: Uint8Array, limits: Limits): EnvelopeHeader {
  const reader = new ByteReader(input);
  const magic = reader.bytes(MAGIC.length);
  if (!magic.every((byte, i) => byte === MAGIC[i]))
    reject("magic", "MALFORMED", "not a kms-envelope envelope");
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
  const list = encodeWrappedKeys(entries);
  const out = new Uint8Array(header.authenticatedBytes.length + TAG_LENGTH + list.length);
  out.set(header.authenticatedBytes, 0);
  out.set(header.headerTag, header.authenticatedBytes.length);
  out.set(list, header.authenticatedBytes.length + TAG_LENGTH);
  return out;
}
