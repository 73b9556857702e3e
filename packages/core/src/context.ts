import { EnvelopeError } from "./errors.js";
import { contextsEqual, decodeContext, type EncryptionContext, encodeContext } from "./format/context.js";

/**
 * Canonical bytes of a context, cached per context object so that KEKs that
 * bind the context as AAD (local, GCP) do not re-encode it on the hot path.
 * Core hands KEKs frozen contexts, so the cache cannot go stale for them.
 */
const canonicalCache = new WeakMap<EncryptionContext, Uint8Array>();

export function canonicalContextBytes(context: EncryptionContext): Uint8Array {
  let bytes = canonicalCache.get(context);
  if (bytes === undefined) {
    bytes = encodeContext(context);
    if (Object.isFrozen(context)) canonicalCache.set(context, bytes);
  }
  return bytes;
}

/** A frozen copy of `context` in canonical order, with its bytes cached. */
export function freezeContext(context: EncryptionContext | undefined): {
  context: EncryptionContext;
  bytes: Uint8Array;
} {
  const bytes = encodeContext(context ?? {});
  // Decoding the canonical bytes yields the pairs in canonical order, frozen.
  const frozen = decodeContext(bytes);
  canonicalCache.set(frozen, bytes);
  return { context: frozen, bytes };
}

/** `CONTEXT_MISMATCH` unless the envelope's context holds exactly the expected pairs. */
export function checkExpectedContext(
  actual: EncryptionContext,
  expected: EncryptionContext | undefined,
): void {
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
