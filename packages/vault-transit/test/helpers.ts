import { randomBytes } from "node:crypto";
import {
  type EnvelopeError,
  type ErrorCode,
  isEnvelopeError,
  type KeyEncryptionKey,
} from "@kms-envelope/core";
import {
  startVaultTransitEmulator,
  type VaultTransitEmulator,
  type VaultTransitEmulatorOptions,
} from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll, beforeEach, expect } from "vitest";

export const CONTEXT = { tenant: "acme" };

export const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

/** Starts an emulator for the file; faults and call counts are cleared before each test. */
export function useVaultEmulator(options?: VaultTransitEmulatorOptions): () => VaultTransitEmulator {
  let vault: VaultTransitEmulator | undefined;
  beforeAll(async () => {
    vault = await startVaultTransitEmulator(options);
  });
  afterAll(() => vault?.close());
  beforeEach(() => {
    vault?.faults.clear();
    vault?.calls.reset();
  });
  return () => vault!;
}

/** The rejection of `promise`, which must be an EnvelopeError with exactly `code`. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!isEnvelopeError(error)) throw new Error(`expected an EnvelopeError, got ${String(error)}`);
  expect(error.code, error.message).toBe(code);
  return error;
}

export const entryOf = (kek: KeyEncryptionKey, wrapped: { keyId: string; wrapped: Uint8Array }) => ({
  provider: kek.provider,
  ...wrapped,
});
