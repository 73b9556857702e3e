import { EnvelopeError } from "../errors.js";

/**
 * Argument checks for the `@kms-envelope/core/format` entry: type tests only
 * (a few nanoseconds), so even the per-frame helpers can afford them. Not
 * exported from the entry itself.
 */
export function badArgument(where: string, detail: string): never {
  throw new EnvelopeError("INVALID_ARGUMENT", `${where}: ${detail}`);
}

export function checkBytes(value: unknown, where: string, name: string): void {
  if (!(value instanceof Uint8Array)) badArgument(where, `${name} must be a Uint8Array`);
}

export function checkCount(value: unknown, where: string, name: string, min = 0): void {
  if (!Number.isSafeInteger(value) || (value as number) < min) {
    badArgument(where, `${name} must be an integer of at least ${min}`);
  }
}

export function checkObject(value: unknown, where: string, name: string): void {
  if (value === null || typeof value !== "object") badArgument(where, `${name} must be an object`);
}
