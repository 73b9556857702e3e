import type { KeyObject } from "node:crypto";
import { FrameSealer } from "./body.js";
import { freezeContext } from "./context.js";
import { computeHeaderTag } from "./crypto/aes-gcm.js";
import { deriveKeys } from "./crypto/derive.js";
import { zero } from "./crypto/memory.js";
import { type RandomSource, randomBytes, secureRandom } from "./crypto/random.js";
import type { DataKeyMaterials } from "./economy/data-key-cache.js";
import { economyDataKey, keepReachable } from "./economy/encrypt-side.js";
import type { KeyringEconomy } from "./economy/keyring-economy.js";
import { EnvelopeError, throwIfAborted, toEnvelopeError } from "./errors.js";
import {
  DEFAULT_FRAME_LENGTH,
  DEK_LENGTH,
  MESSAGE_ID_LENGTH,
  SUITE_AES256_GCM_HKDF_SHA512_COMMIT,
  TAG_LENGTH,
} from "./format/constants.js";
import type { EncryptionContext } from "./format/context.js";
import { bodyLength, planFrames } from "./format/frame.js";
import {
  authenticatedHeaderLength,
  encodeWrappedKeys,
  type WrappedKeyEntry,
  writeAuthenticatedHeader,
} from "./format/header.js";
import type { KeyEncryptionKey } from "./kek.js";
import type { Keyring } from "./keyring.js";
import { type Limits, resolveLimits } from "./limits.js";
import { checkDataKey } from "./provider-kit/checks.js";
import { checkEncryptOptions, requireBytes } from "./validate.js";

export interface EncryptOptions {
  keyring: Keyring;
  /** Authenticated, not secret; passed to every KEK. Defaults to `{}`. */
  context?: EncryptionContext | undefined;
  /** Plaintext bytes per frame; defaults to `DEFAULT_FRAME_LENGTH` (docs/performance.md). */
  frameLength?: number | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
}

/** Everything a message needs before its bytes are written. */
export interface MessageMaterials {
  readonly dek: Uint8Array;
  readonly messageId: Uint8Array;
  readonly context: EncryptionContext;
  readonly contextBytes: Uint8Array;
  readonly frameLength: number;
  readonly wrappedKeys: readonly WrappedKeyEntry[];
  /** `wrappedKeys` encoded once (validated: provider ids, sizes), as the header carries it. */
  readonly wrappedKeyList: Uint8Array;
}

/**
 * Checks options, generates the DEK with the primary KEK, and wraps it with every extra KEK.
 * `plaintextLength`, when known, lets a keyring's data-key cache count the message's bytes.
 */
export async function prepareMessage(
  options: EncryptOptions,
  random: RandomSource = secureRandom,
  plaintextLength?: number,
): Promise<MessageMaterials> {
  const limits = resolveLimits(options.limits);
  const frameLength = options.frameLength ?? Math.min(DEFAULT_FRAME_LENGTH, limits.maxFrameLength);
  if (
    !Number.isSafeInteger(frameLength) ||
    frameLength < limits.minFrameLength ||
    frameLength > limits.maxFrameLength
  ) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `frameLength must be an integer in ${limits.minFrameLength}..${limits.maxFrameLength}`,
    );
  }
  const { context, bytes: contextBytes } = freezeContext(options.context);
  if (contextBytes.length > limits.maxContextBytes) {
    throw new EnvelopeError(
      "LIMIT_EXCEEDED",
      `the encryption context exceeds ${limits.maxContextBytes} bytes`,
    );
  }
  const keks = options.keyring?.wrapping ?? [];
  const primary = keks[0];
  if (primary === undefined)
    throw new EnvelopeError("INVALID_ARGUMENT", "encrypt needs a keyring with a primary KEK");
  if (keks.length > limits.maxWrappedKeys) {
    throw new EnvelopeError(
      "LIMIT_EXCEEDED",
      `the keyring has more KEKs than the limit of ${limits.maxWrappedKeys}`,
    );
  }
  const signal = options.signal;
  throwIfAborted(signal);
  const economy = options.keyring.economy;
  if (economy !== undefined) {
    const shared = await economyDataKey({
      economy,
      keks,
      context,
      contextBytes,
      plaintextLength,
      signal,
      make: (callSignal) => makeDataKey(keks, context, callSignal, random, economy),
    });
    const messageId = randomBytes(MESSAGE_ID_LENGTH, random);
    const { dek, wrappedKeys, wrappedKeyList } = shared;
    return { dek, messageId, context, contextBytes, frameLength, wrappedKeys, wrappedKeyList };
  }
  // The common case (one KEK that wraps) is awaited right here: every async layer is a
  // promise and a microtask per message, measurable at 1 KiB (docs/performance.md).
  let dek: Uint8Array;
  let firstEntry: WrappedKeyEntry;
  if (primary.generateDataKey !== undefined) {
    ({ dek, entry: firstEntry } = await generateWith(primary, context, signal));
  } else {
    dek = randomBytes(DEK_LENGTH, random);
    try {
      firstEntry = toEntry(primary, await primary.wrap(dek, context, { signal }));
    } catch (error) {
      zero(dek);
      throw toEnvelopeError(error, "KMS_ERROR", `${primary.provider} failed to wrap the data key`);
    }
  }
  try {
    const wrappedKeys =
      keks.length === 1
        ? [firstEntry]
        : [
            firstEntry,
            ...(await Promise.all(keks.slice(1).map((kek) => wrapWith(kek, dek, context, signal)))),
          ];
    // Encoding validates provider ids and sizes before any frame is sealed; the header reuses it.
    const wrappedKeyList = encodeWrappedKeys(wrappedKeys);
    const messageId = randomBytes(MESSAGE_ID_LENGTH, random);
    return { dek, messageId, context, contextBytes, frameLength, wrappedKeys, wrappedKeyList };
  } catch (error) {
    zero(dek);
    throw error;
  }
}

/** The economy path's DEK: the primary's, wrapped by each extra (unreachable ones skipped if allowed). */
async function makeDataKey(
  keks: readonly KeyEncryptionKey[],
  context: EncryptionContext,
  signal: AbortSignal | undefined,
  random: RandomSource,
  economy: KeyringEconomy,
): Promise<DataKeyMaterials> {
  const primary = keks[0]!;
  let dek: Uint8Array;
  let first: WrappedKeyEntry;
  if (primary.generateDataKey !== undefined) {
    ({ dek, entry: first } = await generateWith(primary, context, signal));
  } else {
    dek = randomBytes(DEK_LENGTH, random);
    try {
      first = await wrapWith(primary, dek, context, signal);
    } catch (error) {
      zero(dek);
      throw error;
    }
  }
  try {
    const extras = await Promise.allSettled(keks.slice(1).map((kek) => wrapWith(kek, dek, context, signal)));
    const { wrappedKeys, skipped } = keepReachable(first, keks.slice(1), extras, economy);
    return { dek, wrappedKeys, wrappedKeyList: encodeWrappedKeys(wrappedKeys), cacheable: skipped === 0 };
  } catch (error) {
    zero(dek);
    throw error;
  }
}

async function generateWith(kek: KeyEncryptionKey, context: EncryptionContext, signal?: AbortSignal) {
  let generated: Awaited<ReturnType<NonNullable<KeyEncryptionKey["generateDataKey"]>>>;
  try {
    generated = await kek.generateDataKey!(context, { signal });
  } catch (error) {
    throw toEnvelopeError(error, "KMS_ERROR", `${kek.provider} failed to generate a data key`);
  }
  checkDataKey(generated.plaintext, `${kek.provider} generateDataKey`);
  return { dek: generated.plaintext, entry: toEntry(kek, generated) };
}

async function wrapWith(
  kek: KeyEncryptionKey,
  dek: Uint8Array,
  context: EncryptionContext,
  signal?: AbortSignal,
) {
  try {
    return toEntry(kek, await kek.wrap(dek, context, { signal }));
  } catch (error) {
    throw toEnvelopeError(error, "KMS_ERROR", `${kek.provider} failed to wrap the data key`);
  }
}

function toEntry(kek: KeyEncryptionKey, wrapped: { keyId: string; wrapped: Uint8Array }): WrappedKeyEntry {
  return { provider: kek.provider, keyId: wrapped.keyId, wrapped: wrapped.wrapped };
}

function headerLength(materials: MessageMaterials): number {
  return (
    authenticatedHeaderLength(materials.contextBytes.length) + TAG_LENGTH + materials.wrappedKeyList.length
  );
}

/**
 * Writes the header for `materials` at the start of `target`; returns its
 * length and the frame key. The header tag authenticates every header byte
 * before the wrapped-key list.
 */
function writeHeader(
  materials: MessageMaterials,
  target: Uint8Array,
): { length: number; frameKey: KeyObject } {
  const suite = SUITE_AES256_GCM_HKDF_SHA512_COMMIT;
  const { frameKey, commitment } = deriveKeys(materials.dek, materials.messageId, suite);
  const authenticatedLength = writeAuthenticatedHeader(
    {
      suite,
      messageId: materials.messageId,
      frameLength: materials.frameLength,
      contextBytes: materials.contextBytes,
      commitment,
    },
    target,
  );
  target.set(computeHeaderTag(frameKey, target.subarray(0, authenticatedLength)), authenticatedLength);
  target.set(materials.wrappedKeyList, authenticatedLength + TAG_LENGTH);
  return { length: authenticatedLength + TAG_LENGTH + materials.wrappedKeyList.length, frameKey };
}

/** The header for `materials` on its own (streams emit it first), and the frame key. */
export function sealHeader(materials: MessageMaterials): {
  header: Uint8Array<ArrayBuffer>;
  frameKey: KeyObject;
} {
  const header = new Uint8Array(headerLength(materials));
  const { frameKey } = writeHeader(materials, header);
  return { header, frameKey };
}

/** Encrypts a whole plaintext held in memory into one envelope. */
export function sealMessage(materials: MessageMaterials, plaintext: Uint8Array): Uint8Array<ArrayBuffer> {
  const { frameLength } = materials;
  const { regularFrames, finalLength } = planFrames(plaintext.length, frameLength);
  // One allocation for the whole envelope, header included: large fresh buffers are the
  // cost to avoid. Every byte is written below, so the uninitialised (unpooled) allocation
  // leaks nothing.
  const out: Uint8Array<ArrayBuffer> = Buffer.allocUnsafeSlow(
    headerLength(materials) + bodyLength(plaintext.length, frameLength),
  );
  const { length, frameKey } = writeHeader(materials, out);
  const sealer = new FrameSealer(frameKey, materials.messageId, frameLength);
  let offset = length;
  let position = 0;
  for (let i = 0; i < regularFrames; i++, position += frameLength) {
    offset = sealer.seal(plaintext.subarray(position, position + frameLength), false, out, offset);
  }
  sealer.seal(plaintext.subarray(position, position + finalLength), true, out, offset);
  return out;
}

/** Encrypts `plaintext` under a fresh DEK wrapped by every KEK of the keyring's wrapping set. */
export async function encrypt(
  plaintext: Uint8Array,
  options: EncryptOptions,
): Promise<Uint8Array<ArrayBuffer>> {
  requireBytes(plaintext, "encrypt", "plaintext");
  checkEncryptOptions(options, "encrypt");
  const materials = await prepareMessage(options, secureRandom, plaintext.length);
  try {
    return sealMessage(materials, plaintext);
  } finally {
    zero(materials.dek);
  }
}
