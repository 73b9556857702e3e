import { checkExpectedContext } from "./context.js";
import { zero } from "./crypto/memory.js";
import { operationSignal } from "./economy/deadline.js";
import { EnvelopeError, throwIfAborted, toEnvelopeError } from "./errors.js";
import type { EncryptionContext } from "./format/context.js";
import {
  decodeHeader,
  type EnvelopeHeader,
  replaceWrappedKeys,
  type WrappedKeyEntry,
} from "./format/header.js";
import { toEnvelopeBytes } from "./inspect.js";
import { type KeyEncryptionKey, kekMatches } from "./kek.js";
import type { Keyring } from "./keyring.js";
import { type Limits, resolveLimits } from "./limits.js";
import { untilAborted } from "./provider-kit/until-aborted.js";
import { unlockHeader } from "./unlock.js";
import { checkRewrapOptions, requireEnvelope } from "./validate.js";

export type WrappedKeyId = Pick<WrappedKeyEntry, "provider" | "keyId">;

/** Edit the wrapped-key list in place: what `kms-envelope rewrap --to URI --remove URI` does. */
export interface RewrapChanges {
  /** Each wraps the DEK anew; an entry an added KEK already matches is replaced (a rotated key). */
  readonly add?: readonly KeyEncryptionKey[] | undefined;
  /**
   * Entries to drop: a KEK (matched as decrypt would, so an alias removes its
   * ARN's entry) or an exact `{ provider, keyId }`. Each must match at least
   * one entry, so a mistyped key cannot leave the envelope silently unchanged.
   */
  readonly remove?: readonly (KeyEncryptionKey | WrappedKeyId)[] | undefined;
}

export interface RewrapOptions {
  /** KEKs allowed to unwrap the DEK (and, for provider re-encrypt, the allowed sources). */
  readonly from: Keyring;
  /** A keyring replaces the whole list with its wrapping KEKs (primary first); changes edit it. */
  readonly to: Keyring | RewrapChanges;
  /** When given, the envelope's context must hold exactly these pairs. */
  readonly expectedContext?: EncryptionContext | undefined;
  readonly limits?: Partial<Limits> | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface RewrapReport {
  readonly added: readonly WrappedKeyId[];
  readonly removed: readonly WrappedKeyId[];
  readonly kept: readonly WrappedKeyId[];
  /** New entries made by a provider's own re-encrypt call (the DEK never left the KMS). */
  readonly reencrypted: number;
  /** Whether the DEK was unwrapped (and the commitment and header tag verified). */
  readonly unwrapped: boolean;
}

export interface RewrapResult extends RewrapReport {
  readonly envelope: Uint8Array<ArrayBuffer>;
}

function isKeyring(value: Keyring | RewrapChanges): value is Keyring {
  return Array.isArray((value as Keyring).wrapping);
}

const idOf = (entry: WrappedKeyId): WrappedKeyId => ({ provider: entry.provider, keyId: entry.keyId });

async function removalMatches(
  target: KeyEncryptionKey | WrappedKeyId,
  entry: WrappedKeyEntry,
): Promise<boolean> {
  if ("unwrap" in target && typeof target.unwrap === "function") return kekMatches(target, entry);
  return target.provider === entry.provider && target.keyId === entry.keyId;
}

async function anyMatch(keks: readonly KeyEncryptionKey[], entry: WrappedKeyEntry): Promise<boolean> {
  for (const kek of keks) if (await kekMatches(kek, entry)) return true;
  return false;
}

/** Which old entries stay and which KEKs must wrap anew. */
async function plan(header: EnvelopeHeader, to: Keyring | RewrapChanges) {
  if (isKeyring(to)) {
    if (to.wrapping.length === 0)
      throw new EnvelopeError("INVALID_ARGUMENT", "rewrap: the target keyring has no primary KEK");
    return { kept: [] as WrappedKeyEntry[], newKeks: to.wrapping };
  }
  const add = to.add ?? [];
  const remove = to.remove ?? [];
  if (add.length === 0 && remove.length === 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "rewrap: nothing to add or remove");
  }
  const dropped = new Set<WrappedKeyEntry>();
  for (const target of remove) {
    let matched = false;
    for (const entry of header.wrappedKeys) {
      if (await removalMatches(target, entry)) {
        dropped.add(entry);
        matched = true;
      }
    }
    if (!matched) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `rewrap: no wrapped key matches ${target.provider}:${target.keyId}`,
      );
    }
  }
  const kept: WrappedKeyEntry[] = [];
  for (const entry of header.wrappedKeys) {
    if (!dropped.has(entry) && !(await anyMatch(add, entry))) kept.push(entry);
  }
  return { kept, newKeks: add };
}

/** Tries `kek.reencrypt` on each entry of its provider that `from` may read; undefined if none worked. */
async function reencryptWith(
  kek: KeyEncryptionKey,
  header: EnvelopeHeader,
  from: Keyring,
  signal: AbortSignal | undefined,
): Promise<WrappedKeyEntry | undefined> {
  if (kek.reencrypt === undefined) return undefined;
  for (const entry of header.wrappedKeys) {
    if (entry.provider !== kek.provider || !(await anyMatch(from.allowed, entry))) continue;
    let result: Awaited<ReturnType<NonNullable<KeyEncryptionKey["reencrypt"]>>>;
    try {
      result = await untilAborted(kek.reencrypt(entry, header.context, { signal }), signal);
    } catch (error) {
      throw toEnvelopeError(error, "KMS_ERROR", `${kek.provider} failed to re-encrypt the data key`);
    }
    if (result !== undefined) return { provider: kek.provider, keyId: result.keyId, wrapped: result.wrapped };
  }
  return undefined;
}

/**
 * The header bytes of `header` with a new wrapped-key list. The
 * authenticated part and the header tag are copied unchanged; the body is
 * never touched. KMS calls: a provider re-encrypt per new KEK that has one,
 * otherwise one unwrap (which verifies the key commitment and the header tag)
 * plus one wrap per new KEK.
 */
export async function rewrapHeader(
  header: EnvelopeHeader,
  options: RewrapOptions,
): Promise<{ header: Uint8Array<ArrayBuffer>; report: RewrapReport }> {
  // The source keyring's overall deadline (docs/caching.md) bounds the whole rewrap.
  const op = operationSignal(options.signal, options.from?.economy?.deadlineMs);
  try {
    return await rewrapHeaderUnder(header, options, op.signal);
  } finally {
    op.done();
  }
}

async function rewrapHeaderUnder(
  header: EnvelopeHeader,
  options: RewrapOptions,
  signal: AbortSignal | undefined,
): Promise<{ header: Uint8Array<ArrayBuffer>; report: RewrapReport }> {
  const limits = resolveLimits(options.limits);
  checkExpectedContext(header.context, options.expectedContext);
  throwIfAborted(signal);
  const planned = await plan(header, options.to);
  const { kept } = planned;
  // KEKs given in `add` get the source keyring's guard (deadlines, limits, events); a target
  // keyring's KEKs already have their own.
  const economy = options.from?.economy;
  const newKeks =
    economy === undefined || isKeyring(options.to)
      ? planned.newKeks
      : planned.newKeks.map((k) => economy.guard(k));
  const fresh: (WrappedKeyEntry | undefined)[] = [];
  for (const kek of newKeks) fresh.push(await reencryptWith(kek, header, options.from, signal));
  const reencrypted = fresh.filter((entry) => entry !== undefined).length;
  // A pure removal still unwraps once: it proves the envelope is intact and readable before keys go.
  const needsDek = reencrypted < newKeks.length || newKeks.length === 0;
  if (needsDek) {
    const unlocked = await unlockHeader(header, options.from, signal);
    try {
      await Promise.all(
        newKeks.map(async (kek, i) => {
          if (fresh[i] !== undefined) return;
          let wrapped: Awaited<ReturnType<KeyEncryptionKey["wrap"]>>;
          try {
            // Raced here too: a KEK given in `add` is not behind the keyring's guard.
            wrapped = await untilAborted(kek.wrap(unlocked.dek, header.context, { signal }), signal);
          } catch (error) {
            throw toEnvelopeError(error, "KMS_ERROR", `${kek.provider} failed to wrap the data key`);
          }
          fresh[i] = { provider: kek.provider, keyId: wrapped.keyId, wrapped: wrapped.wrapped };
        }),
      );
    } finally {
      zero(unlocked.dek);
    }
  }
  const added = fresh as WrappedKeyEntry[];
  const entries = [...kept, ...added];
  if (entries.length > limits.maxWrappedKeys) {
    throw new EnvelopeError(
      "LIMIT_EXCEEDED",
      `rewrap: ${entries.length} wrapped keys exceed the limit of ${limits.maxWrappedKeys}`,
    );
  }
  const keptSet = new Set(kept);
  return {
    header: replaceWrappedKeys(header, entries),
    report: Object.freeze({
      added: added.map(idOf),
      removed: header.wrappedKeys.filter((entry) => !keptSet.has(entry)).map(idOf),
      kept: kept.map(idOf),
      reencrypted,
      unwrapped: needsDek,
    }),
  };
}

/**
 * Rewrites the wrapped-key list of an envelope held in memory (binary or
 * armored; the result is binary). The header tag and body are copied byte
 * for byte; the body is not decrypted. For a stream of any size use
 * `rewrapStream` / `rewrapWebStream`.
 */
export async function rewrap(envelope: Uint8Array | string, options: RewrapOptions): Promise<RewrapResult> {
  requireEnvelope(envelope, "rewrap");
  checkRewrapOptions(options, "rewrap");
  const bytes = toEnvelopeBytes(envelope);
  const header = decodeHeader(bytes, resolveLimits(options.limits));
  const { header: newHeader, report } = await rewrapHeader(header, options);
  const body = bytes.subarray(header.length);
  const out = new Uint8Array(newHeader.length + body.length);
  out.set(newHeader, 0);
  out.set(body, newHeader.length);
  return { envelope: out, ...report };
}
