import { EnvelopeError } from "./errors.js";
import {
  canonicalizeContext,
  contextsEqual,
  type EncryptionContext,
  encodeContext,
} from "./format/context.js";
import { optionalStringRecord, requireObject } from "./validate.js";

/**
 * Canonical bytes of a context, cached per context object so that KEKs that
 * bind the context as AAD (local, GCP) do not re-encode it on the hot path.
 * Core hands KEKs frozen contexts, so the cache cannot go stale for them.
 */
const canonicalCache = new WeakMap<EncryptionContext, Uint8Array>();
/** Contexts `freezeContext` made: plain frozen data in canonical order, safe to hand out again. */
const canonicalContexts = new WeakSet<EncryptionContext>();
const EMPTY: EncryptionContext = Object.freeze({});

export function canonicalContextBytes(context: EncryptionContext): Uint8Array {
  let bytes = canonicalCache.get(context);
  if (bytes === undefined) {
    bytes = encodeContext(context);
    if (Object.isFrozen(context)) canonicalCache.set(context, bytes);
  }
  return bytes;
}

/**
 * A frozen copy of `context` in canonical order, with its bytes cached. A
 * context this function froze before is returned as it is (it cannot have
 * changed), and so is a recent frozen copy with the same content.
 */
export function freezeContext(context: EncryptionContext | undefined): {
  context: EncryptionContext;
  bytes: Uint8Array;
} {
  const source = context ?? EMPTY;
  if (canonicalContexts.has(source)) return { context: source, bytes: canonicalContextBytes(source) };
  const key = contentKey(source);
  const known = key === undefined ? undefined : recentContexts.get(key);
  if (known !== undefined) return { context: known, bytes: canonicalContextBytes(known) };
  const { bytes, entries } = canonicalizeContext(source);
  // Object.fromEntries defines own properties, so a key such as "__proto__" stays data.
  const frozen = Object.freeze(Object.fromEntries(entries));
  canonicalCache.set(frozen, bytes);
  canonicalContexts.add(frozen);
  if (key !== undefined) {
    // Keyed by the copy's own content: the values actually frozen, read once.
    const frozenKey = contentKey(frozen);
    if (frozenKey !== undefined) remember(frozenKey, frozen);
  }
  return { context: frozen, bytes };
}

/**
 * Services encrypt under the same few contexts again and again, each call with
 * a fresh object literal. Freezing a canonical copy costs ~3 µs, and every new
 * copy is a new weak-map key for the garbage collector (~3 µs more per message,
 * measured): so the frozen copy is found again by content. The key spells out
 * each pair with its lengths, so no two different contexts share one; anything
 * unusual (a non-string value, a large context) skips the cache and is
 * validated and rejected by `canonicalizeContext` as usual.
 */
const recentContexts = new Map<string, EncryptionContext>();
const MAX_RECENT_CONTEXTS = 128;
const MAX_KEYED_CONTEXT = 1024;

function remember(key: string, context: EncryptionContext): void {
  if (recentContexts.size >= MAX_RECENT_CONTEXTS) recentContexts.clear();
  recentContexts.set(key, context);
}

function contentKey(context: EncryptionContext): string | undefined {
  if (
    context === null ||
    typeof context !== "object" ||
    Object.getPrototypeOf(context) !== Object.prototype
  ) {
    return undefined;
  }
  let key = "";
  for (const name in context) {
    if (!Object.hasOwn(context, name)) return undefined;
    const value = context[name];
    if (typeof value !== "string") return undefined;
    key += `${name.length}:${name}${value.length}:${value}`;
    if (key.length > MAX_KEYED_CONTEXT) return undefined;
  }
  return key;
}

/**
 * The context to hand KEKs for `context`, decoded from an envelope (so
 * frozen, plain and in canonical order) with canonical bytes `bytes`: a
 * recent frozen copy with the same content when there is one, else `context`
 * itself, recorded with a copy of its bytes (usually a view into the caller's
 * envelope). Either way KEKs that bind the context as AAD skip re-encoding
 * it, and steady traffic adds no weak-map entry per message.
 */
export function canonicalDecodedContext(context: EncryptionContext, bytes: Uint8Array): EncryptionContext {
  if (canonicalContexts.has(context)) return context;
  const key = contentKey(context);
  const known = key === undefined ? undefined : recentContexts.get(key);
  if (known !== undefined) return known;
  canonicalCache.set(context, bytes.slice());
  canonicalContexts.add(context);
  if (key !== undefined) remember(key, context);
  return context;
}

/** `CONTEXT_MISMATCH` unless the envelope's context holds exactly the expected pairs. */
export function checkExpectedContext(
  actual: EncryptionContext,
  expected: EncryptionContext | undefined,
): void {
  requireObject(actual, "checkExpectedContext", "actual");
  optionalStringRecord(expected, "checkExpectedContext", "expected");
  if (expected === undefined) return;
  if (!contextsEqual(actual, expected)) {
    const missing = Object.keys(expected).filter(
      (key) => !Object.hasOwn(actual, key) || actual[key] !== expected[key],
    );
    const extra = Object.keys(actual).filter((key) => !Object.hasOwn(expected, key));
    const parts = [];
    // Key names only: context values are not secret, but they need not be echoed either.
    if (missing.length > 0) parts.push(`missing or different: ${missing.join(", ")}`);
    if (extra.length > 0) parts.push(`not expected: ${extra.join(", ")}`);
    throw new EnvelopeError(
      "CONTEXT_MISMATCH",
      `expected-context: the encryption context does not match (${parts.join("; ")})`,
    );
  }
}

export type { EncryptionContext };
