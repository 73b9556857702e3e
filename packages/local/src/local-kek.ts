import { createSecretKey } from "node:crypto";
import {
  type EncryptionContext,
  EnvelopeError,
  type KeyEncryptionKey,
  throwIfAborted,
} from "@kms-envelope/core";
import {
  aadPrefix,
  type FillRandom,
  KEY_LENGTH,
  secureFill,
  unwrapDek,
  wrapAad,
  wrapDek,
} from "./aes-key-wrap.js";

export const LOCAL_PROVIDER = "local";

export interface LocalKekOptions {
  /** 32 bytes of AES-256 key material. Copied; the caller may zero its own copy. */
  key: Uint8Array;
  /** Recorded in the envelope; unique among the keys you use. */
  keyId: string;
  /** Randomness for wrap nonces: only tests and vector generation pass a fixed source. */
  random?: FillRandom | undefined;
}

/**
 * An in-memory KEK: AES-256-GCM key wrapping with the canonical context as
 * AAD. The test provider, and the one the shared test vectors are made with.
 */
export function createLocalKek(options: LocalKekOptions): KeyEncryptionKey {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "createLocalKek: options must be an object");
  }
  if (options.random !== undefined && typeof options.random !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "createLocalKek: random must be a function");
  }
  if (!(options.key instanceof Uint8Array) || options.key.length !== KEY_LENGTH) {
    throw new EnvelopeError("INVALID_ARGUMENT", "a local KEK needs exactly 32 bytes of key material");
  }
  if (typeof options.keyId !== "string" || options.keyId.length === 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "a local KEK needs a non-empty keyId");
  }
  // A KeyObject holds its own copy (the caller may zero theirs) and spares a key setup per call.
  const copy = Buffer.from(options.key);
  const key = createSecretKey(copy);
  copy.fill(0);
  const prefix = aadPrefix(options.keyId, 0);
  // Core hands KEKs the same frozen context object for the same content (a bounded cache),
  // so the AAD for it is built once; a context that is not frozen could change, and is not kept.
  const aadByContext = new WeakMap<EncryptionContext, Uint8Array>();
  const aadFor = (context: EncryptionContext): Uint8Array => {
    let aad = aadByContext.get(context);
    if (aad === undefined) {
      aad = wrapAad(prefix, context);
      if (Object.isFrozen(context)) aadByContext.set(context, aad);
    }
    return aad;
  };
  const keyId = options.keyId;
  const random = options.random ?? secureFill;
  const kek: KeyEncryptionKey = {
    provider: LOCAL_PROVIDER,
    keyId,
    async wrap(dek, context, callOptions) {
      throwIfAborted(callOptions?.signal);
      return { keyId, wrapped: wrapDek(key, aadFor(context), dek, random) };
    },
    async unwrap(entry, context, callOptions) {
      throwIfAborted(callOptions?.signal);
      if (entry.keyId !== keyId)
        throw new EnvelopeError("KEY_ID_MISMATCH", "entry was wrapped by another local key");
      return unwrapDek(key, aadFor(context), entry.wrapped);
    },
  };
  return Object.freeze(kek);
}
