import { type EncryptionContext, EnvelopeError } from "@kms-envelope/core";
import type { RequiredContextKey } from "./types.js";

/**
 * `CONTEXT_MISMATCH` unless `context` holds every required key, with the
 * pinned value where one is given. Extra keys are fine (unlike decrypt's
 * exact `expectedContext`): this is the "required encryption context" rule.
 * Run it on the header (`inspect(envelope).context`, or a stream's `onHeader`)
 * so no plaintext is released for an envelope that fails it.
 */
export function checkRequiredContext(
  context: EncryptionContext,
  required: readonly RequiredContextKey[],
): void {
  if (context === null || typeof context !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "checkRequiredContext needs the envelope's context");
  }
  if (!Array.isArray(required))
    throw new EnvelopeError("INVALID_ARGUMENT", "required context must be a list");
  const missing: string[] = [];
  const different: string[] = [];
  for (const { key, value } of required) {
    if (!Object.hasOwn(context, key)) missing.push(key);
    else if (value !== undefined && context[key] !== value) different.push(key);
  }
  if (missing.length === 0 && different.length === 0) return;
  const parts: string[] = [];
  // Key names only: values are not secret, but need not be echoed either.
  if (missing.length > 0) parts.push(`missing: ${missing.join(", ")}`);
  if (different.length > 0) parts.push(`different value: ${different.join(", ")}`);
  throw new EnvelopeError("CONTEXT_MISMATCH", `required context: ${parts.join("; ")}`);
}
