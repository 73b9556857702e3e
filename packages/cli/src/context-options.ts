import { type EncryptionContext, EnvelopeError } from "@kms-envelope/core";

/** `k=v` pairs from repeated flags into a context; the first "=" splits key from value. */
export function parsePairs(values: readonly string[], flag: string): EncryptionContext | undefined {
  if (values.length === 0) return undefined;
  const context: Record<string, string> = {};
  for (const value of values) {
    const at = value.indexOf("=");
    if (at <= 0) throw new EnvelopeError("INVALID_ARGUMENT", `${flag} takes key=value, got "${value}"`);
    const key = value.slice(0, at);
    if (Object.hasOwn(context, key))
      throw new EnvelopeError("INVALID_ARGUMENT", `${flag} names "${key}" twice`);
    Object.defineProperty(context, key, { value: value.slice(at + 1), enumerable: true, writable: true });
  }
  return context;
}

export function formatContext(context: EncryptionContext): string {
  const entries = Object.entries(context);
  return entries.length === 0 ? "(empty)" : entries.map(([k, v]) => `${k}=${v}`).join(", ");
}
