import type { EnvelopeError } from "../errors.js";
import type { EncryptionContext } from "../format/context.js";
import type { WrappedKeyEntry } from "../format/header.js";
import type { KeyEncryptionKey } from "../kek.js";
import type { DataKeyMaterials } from "./data-key-cache.js";
import { operationSignal } from "./deadline.js";
import { emit } from "./events.js";
import type { KeyringEconomy } from "./keyring-economy.js";

/** Codes that mean "cannot be reached now", the only failures `unreachableExtras: "skip"` skips. */
const UNREACHABLE = new Set(["KMS_UNAVAILABLE", "KMS_THROTTLED"]);

export interface EconomyDataKeyRequest {
  readonly economy: KeyringEconomy;
  readonly keks: readonly KeyEncryptionKey[];
  readonly context: EncryptionContext;
  readonly contextBytes: Uint8Array;
  /** Unknown for a stream: such messages bypass the encrypt cache (their bytes cannot be counted up front). */
  readonly plaintextLength: number | undefined;
  readonly signal: AbortSignal | undefined;
  readonly make: (signal: AbortSignal | undefined) => Promise<DataKeyMaterials>;
}

/**
 * One message's DEK under the keyring's economy: from the encrypt cache
 * when it has one (partition: keyring or caller partition × the wrapping
 * KEKs × the exact context bytes), else fresh; all under the deadline.
 */
export async function economyDataKey(request: EconomyDataKeyRequest): Promise<DataKeyMaterials> {
  const { economy, keks, contextBytes, plaintextLength } = request;
  const op = operationSignal(request.signal, economy.deadlineMs);
  try {
    const cache = economy.cache;
    if (cache === undefined || !cache.encryptEnabled || plaintextLength === undefined) {
      return await request.make(op.signal);
    }
    const primary = keks[0]!;
    const key = [
      economy.encryptPartition,
      ...keks.map((kek) => `${kek.provider}:${kek.keyId}`),
      Buffer.from(contextBytes).toString("base64"),
    ].join("\n");
    return await cache.encryptMaterials(
      key,
      plaintextLength,
      { provider: primary.provider, keyId: primary.keyId },
      request.make,
      op.signal,
      economy.onEvent,
    );
  } finally {
    op.done();
  }
}

/**
 * The wrapped-key list from the primary's entry and each extra's outcome:
 * an unreachable extra is skipped (and reported) when the keyring allows it;
 * any other failure, or an unreachable extra by default, fails the encrypt.
 */
export function keepReachable(
  first: WrappedKeyEntry,
  extras: readonly KeyEncryptionKey[],
  outcomes: readonly PromiseSettledResult<WrappedKeyEntry>[],
  economy: KeyringEconomy,
): { wrappedKeys: WrappedKeyEntry[]; skipped: number } {
  const wrappedKeys = [first];
  const skippable: { kek: KeyEncryptionKey; error: EnvelopeError }[] = [];
  for (const [i, outcome] of outcomes.entries()) {
    if (outcome.status === "fulfilled") {
      wrappedKeys.push(outcome.value);
      continue;
    }
    const error = outcome.reason as EnvelopeError;
    if (!economy.skipUnreachableExtras || !UNREACHABLE.has(error.code)) {
      throw error;
    }
    skippable.push({ kek: extras[i]!, error });
  }
  for (const { kek, error } of skippable) {
    emit(economy.onEvent, {
      type: "kek.skipped",
      provider: kek.provider,
      keyId: kek.keyId,
      code: error.code,
    });
  }
  return { wrappedKeys, skipped: skippable.length };
}
