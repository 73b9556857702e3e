import { canonicalDecodedContext } from "../context.js";
import { zero } from "../crypto/memory.js";
import { toEnvelopeError, type UnwrapFailure } from "../errors.js";
import type { EnvelopeHeader } from "../format/header.js";
import { type Keyring, type UnwrapCandidate, unwrapCandidates } from "../keyring.js";
import {
  checkDekLength,
  entryId,
  noUsableKey,
  openFailure,
  type UnlockedHeader,
  verifyDek,
} from "../unlock-steps.js";
import { abortError, childSignal, operationSignal } from "./deadline.js";
import { emit } from "./events.js";
import type { KeyringEconomy } from "./keyring-economy.js";

type Ready = UnwrapCandidate & { readonly kek: NonNullable<UnwrapCandidate["kek"]> };

interface Attempt {
  readonly candidate: Ready;
  readonly cancel: () => void;
  readonly settled: Promise<Outcome>;
}

type Outcome =
  | { readonly attempt: Attempt; readonly dek: Uint8Array; readonly error?: undefined }
  | { readonly attempt: Attempt; readonly dek?: undefined; readonly error: unknown };

const HEDGE = Symbol("hedge");

/**
 * `unlockHeader` for a keyring with KMS-economy options: the same checks in
 * the same order, plus the overall deadline, the decrypt-side cache (each
 * (entry, context) unwrapped once, shared by concurrent decrypts), failover
 * to the next allowed KEK on any failure, and optional hedging: when the KEK
 * being tried is slow, the next starts too; the first DEK wins and the other
 * attempts are cancelled (a DEK that still arrives is zeroed).
 */
export async function unlockWithEconomy(
  header: EnvelopeHeader,
  keyring: Keyring,
  economy: KeyringEconomy,
  callerSignal: AbortSignal | undefined,
): Promise<UnlockedHeader> {
  const op = operationSignal(callerSignal, economy.deadlineMs);
  try {
    return await unlock(header, keyring, economy, op.signal);
  } finally {
    op.done();
  }
}

async function unlock(
  header: EnvelopeHeader,
  keyring: Keyring,
  economy: KeyringEconomy,
  signal: AbortSignal | undefined,
): Promise<UnlockedHeader> {
  const context = canonicalDecodedContext(header.context, header.contextBytes);
  const contextKey = Buffer.from(header.contextBytes).toString("base64");
  const cache = economy.cache?.decryptEnabled === true ? economy.cache : undefined;
  const hedgeAfterMs = economy.hedgeAfterMs;
  const candidates = unwrapCandidates(keyring, header.wrappedKeys);
  const failures: UnwrapFailure[] = [];
  const running = new Set<Attempt>();

  const unwrap = ({ kek, entry }: Ready, attemptSignal: AbortSignal | undefined) => {
    const direct = (callSignal: AbortSignal | undefined) =>
      kek.unwrap(entry, context, { signal: callSignal });
    if (cache === undefined) return direct(attemptSignal);
    // Exact (partition, provider, key id, wrapped bytes, context): nothing else is ever served.
    const key = [
      economy.decryptPartition,
      entry.provider,
      entry.keyId,
      Buffer.from(entry.wrapped).toString("base64"),
      contextKey,
    ].join("\n");
    return cache.unwrap(key, entryId(entry), direct, attemptSignal, economy.onEvent);
  };

  /** Starts the next candidate; false when there is none left. */
  const startNext = async (): Promise<boolean> => {
    for (;;) {
      if (signal?.aborted) throw abortError(signal);
      const next = await candidates.next();
      if (next.done === true) return false;
      const candidate = next.value;
      if (candidate.kek === undefined) {
        failures.push(openFailure(candidate));
        continue;
      }
      const ready = candidate as Ready;
      const child = hedgeAfterMs === undefined ? undefined : childSignal(signal);
      const attempt: Attempt = {
        candidate: ready,
        cancel: () => child?.cancel(),
        settled: invoke(() => unwrap(ready, child?.signal ?? signal)).then(
          (dek) => ({ attempt, dek }),
          (error: unknown) => ({ attempt, error }),
        ),
      };
      running.add(attempt);
      return true;
    }
  };

  let more = await startNext();
  try {
    while (running.size > 0) {
      const outcome = await nextOutcome(
        running,
        more && hedgeAfterMs !== undefined ? hedgeAfterMs : undefined,
      );
      if (outcome === HEDGE) {
        const slow = [...running].at(-1)!.candidate.entry;
        more = await startNext();
        // Only a hedge that started another KEK is a failover; with none left, the slow call just goes on.
        if (more) emit(economy.onEvent, { type: "failover", reason: "hedge", ...entryId(slow) });
        continue;
      }
      running.delete(outcome.attempt);
      const { entry, kek } = outcome.attempt.candidate;
      if (outcome.dek !== undefined) {
        const dek = outcome.dek;
        const wrongLength = checkDekLength(dek, entry);
        if (wrongLength === undefined) return { dek, frameKey: verifyDek(header, dek), kek, entry };
        failures.push(wrongLength);
      } else {
        const typed = toEnvelopeError(
          outcome.error,
          "KMS_ERROR",
          `${entry.provider} failed to unwrap the data key`,
        );
        if (signal?.aborted) throw abortError(signal);
        failures.push({ ...entryId(entry), error: typed });
        emit(economy.onEvent, { type: "failover", reason: "error", code: typed.code, ...entryId(entry) });
      }
      if (more) more = await startNext();
    }
  } finally {
    // The losers: cancelled, and any DEK they still return zeroed.
    for (const attempt of running) {
      attempt.cancel();
      void attempt.settled.then((late) => late.dek !== undefined && zero(late.dek));
    }
  }
  if (signal?.aborted) throw abortError(signal);
  throw noUsableKey(header, failures);
}

/** The first attempt to settle, or HEDGE when `hedgeMs` passes first. */
async function nextOutcome(
  running: Set<Attempt>,
  hedgeMs: number | undefined,
): Promise<Outcome | typeof HEDGE> {
  const settled = [...running].map((attempt) => attempt.settled);
  if (hedgeMs === undefined) return Promise.race(settled);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const hedge = new Promise<typeof HEDGE>((resolve) => {
    timer = setTimeout(() => resolve(HEDGE), hedgeMs);
  });
  try {
    return await Promise.race([...settled, hedge]);
  } finally {
    clearTimeout(timer);
  }
}

function invoke<T>(run: () => Promise<T>): Promise<T> {
  try {
    return run();
  } catch (error) {
    return Promise.reject(error);
  }
}
