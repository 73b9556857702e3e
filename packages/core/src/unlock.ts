import { canonicalDecodedContext } from "./context.js";
import { unlockWithEconomy } from "./economy/unlock-economy.js";
import { throwIfAborted, toEnvelopeError, type UnwrapFailure } from "./errors.js";
import type { EnvelopeHeader } from "./format/header.js";
import { type Keyring, unwrapCandidates } from "./keyring.js";
import {
  checkDekLength,
  entryId,
  noUsableKey,
  openFailure,
  type UnlockedHeader,
  verifyDek,
} from "./unlock-steps.js";

/**
 * Finds the DEK and proves it is the one the envelope was made with:
 * 1. try each allowed (KEK, wrapped key) pair until one unwraps;
 * 2. derive the frame key and commitment from the DEK and message id;
 * 3. key-commitment: compare in constant time with the header's commitment;
 * 4. header-tag: verify the header tag under the frame key.
 * Only then may any frame be opened.
 */
export async function unlockHeader(
  header: EnvelopeHeader,
  keyring: Keyring,
  signal: AbortSignal | undefined,
): Promise<UnlockedHeader> {
  if (keyring.economy !== undefined) return unlockWithEconomy(header, keyring, keyring.economy, signal);
  const context = canonicalDecodedContext(header.context, header.contextBytes);
  const failures: UnwrapFailure[] = [];
  for await (const candidate of unwrapCandidates(keyring, header.wrappedKeys)) {
    const { entry } = candidate;
    throwIfAborted(signal);
    if (candidate.kek === undefined) {
      failures.push(openFailure(candidate));
      continue;
    }
    let dek: Uint8Array;
    try {
      dek = await candidate.kek.unwrap(entry, context, { signal });
    } catch (error) {
      const typed = toEnvelopeError(error, "KMS_ERROR", `${entry.provider} failed to unwrap the data key`);
      if (typed.code === "ABORTED") throw typed;
      failures.push({ ...entryId(entry), error: typed });
      continue;
    }
    const wrongLength = checkDekLength(dek, entry);
    if (wrongLength !== undefined) {
      failures.push(wrongLength);
      continue;
    }
    return { dek, frameKey: verifyDek(header, dek), kek: candidate.kek, entry };
  }
  throw noUsableKey(header, failures);
}
