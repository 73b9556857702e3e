import { EnvelopeError } from "./errors.js";
import { DEFAULT_LIMITS } from "./limits.js";

/**
 * Argument checks for the public entry points: a caller's mistake is an
 * `INVALID_ARGUMENT` naming the function and the argument, never a
 * `TypeError` from deep inside. Cheap (type tests only): they run per call.
 */
export function invalid(where: string, detail: string): never {
  throw new EnvelopeError("INVALID_ARGUMENT", `${where}: ${detail}`);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/** A required options object. */
export function requireObject(value: unknown, where: string, name = "options"): Record<string, unknown> {
  if (!isObject(value)) invalid(where, `${name} must be an object`);
  return value;
}

/** An optional options object (`undefined` allowed, `null` not). */
export function optionalObject(value: unknown, where: string, name = "options"): Record<string, unknown> {
  if (value === undefined) return {};
  return requireObject(value, where, name);
}

export function optionalFunction(value: unknown, where: string, name: string): void {
  if (value !== undefined && typeof value !== "function") invalid(where, `${name} must be a function`);
}

export function requireString(value: unknown, where: string, name: string): string {
  if (typeof value !== "string") invalid(where, `${name} must be a string`);
  return value;
}

export function requireArray(value: unknown, where: string, name: string): readonly unknown[] {
  if (!Array.isArray(value)) invalid(where, `${name} must be an array`);
  return value;
}

export function optionalArray(value: unknown, where: string, name: string): readonly unknown[] {
  return value === undefined ? [] : requireArray(value, where, name);
}

export function requireBytes(value: unknown, where: string, name: string): Uint8Array {
  if (!(value instanceof Uint8Array)) invalid(where, `${name} must be a Uint8Array`);
  return value;
}

/** An envelope: bytes, or armored text. */
export function requireEnvelope(value: unknown, where: string): void {
  if (typeof value !== "string" && !(value instanceof Uint8Array)) {
    invalid(where, "an envelope is a Uint8Array or an armored string");
  }
}

/** Something with the KeyEncryptionKey shape (the provider checks the rest). */
export function isKekShaped(value: unknown): boolean {
  const kek = value as Record<string, unknown> | null | undefined;
  return (
    isObject(kek) &&
    typeof kek.provider === "string" &&
    typeof kek.keyId === "string" &&
    typeof kek.wrap === "function" &&
    typeof kek.unwrap === "function"
  );
}

/** A keyring made by `createKeyring` (or with its shape). */
export function requireKeyring(value: unknown, where: string, name = "keyring"): void {
  const keyring = value as Record<string, unknown> | null | undefined;
  if (!isObject(keyring) || !Array.isArray(keyring.allowed) || !Array.isArray(keyring.wrapping)) {
    invalid(where, `${name} must be a keyring (see createKeyring)`);
  }
}

/** A context for comparison: an object whose values are all strings. */
export function optionalStringRecord(value: unknown, where: string, name: string): void {
  if (value === undefined) return;
  if (!isObject(value)) invalid(where, `${name} must be an object of string pairs`);
  for (const key of Object.keys(value)) {
    if (typeof value[key] !== "string") invalid(where, `${name} values must be strings`);
  }
}

export function optionalSignal(value: unknown, where: string): void {
  if (value === undefined) return;
  const signal = value as Record<string, unknown> | null;
  if (
    signal === null ||
    typeof signal !== "object" ||
    typeof signal.aborted !== "boolean" ||
    typeof signal.addEventListener !== "function"
  ) {
    invalid(where, "signal must be an AbortSignal");
  }
}

/** Limit overrides: an object of known limit names (their values are checked by `resolveLimits`). */
export function optionalLimits(value: unknown, where: string): void {
  if (value === undefined) return;
  if (!isObject(value)) invalid(where, "limits must be an object");
  for (const key of Object.keys(value)) {
    if (!Object.hasOwn(DEFAULT_LIMITS, key)) invalid(where, `unknown limit "${key}"`);
  }
}

/** What `decrypt`, `inspect`'s callers and the decrypt streams share. */
export function checkDecryptOptions(value: unknown, where: string): void {
  const options = requireObject(value, where);
  requireKeyring(options.keyring, where);
  optionalStringRecord(options.expectedContext, where, "expectedContext");
  optionalLimits(options.limits, where);
  optionalSignal(options.signal, where);
  optionalFunction(options.onHeader, where, "onHeader");
}

export function checkEncryptOptions(value: unknown, where: string): void {
  const options = requireObject(value, where);
  requireKeyring(options.keyring, where);
  // The context's content is validated where it is encoded (canonicalizeContext).
  if (options.context !== undefined && !isObject(options.context)) {
    invalid(where, "context must be an object of string pairs");
  }
  if (options.frameLength !== undefined && !Number.isSafeInteger(options.frameLength)) {
    invalid(where, "frameLength must be an integer");
  }
  optionalLimits(options.limits, where);
  optionalSignal(options.signal, where);
}

export function checkRewrapOptions(value: unknown, where: string): void {
  const options = requireObject(value, where);
  requireKeyring(options.from, where, "from");
  const to = options.to as Record<string, unknown> | undefined;
  if (!isObject(to)) invalid(where, "to must be a keyring or { add, remove }");
  if (!Array.isArray(to.wrapping)) {
    for (const kek of optionalArray(to.add, where, "to.add")) {
      if (!isKekShaped(kek)) invalid(where, "to.add must hold KeyEncryptionKeys");
    }
    for (const target of optionalArray(to.remove, where, "to.remove")) {
      const item = target as Record<string, unknown>;
      if (!isObject(item) || typeof item.provider !== "string" || typeof item.keyId !== "string") {
        invalid(where, "to.remove must hold KeyEncryptionKeys or { provider, keyId }");
      }
    }
  }
  optionalStringRecord(options.expectedContext, where, "expectedContext");
  optionalLimits(options.limits, where);
  optionalSignal(options.signal, where);
}
