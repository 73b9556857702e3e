import { setTimeout as sleep } from "node:timers/promises";
import { EnvelopeError, type ErrorCode, type KeyEncryptionKey } from "../../src/index.js";
import { createMemoryKek } from "./memory-kek.js";

/** What the next call does instead of (or before) answering. */
export interface Step {
  /** Answer (or fail) only after this long, ignoring the signal. */
  readonly delayMs?: number;
  readonly fail?: ErrorCode;
  readonly retryAfterMs?: number;
  /** Never answer, ignoring the signal: only core's own deadline ends the wait. */
  readonly hang?: true;
}

/**
 * A memory KEK (real AES-GCM wrap bound to the context) whose calls can be
 * scripted: fail with a code, answer late, or hang ignoring the signal. It
 * records every call's signal and a copy of every DEK it saw, so tests can
 * check cancellation and scan events for key material.
 */
export function createScriptedKek(keyId: string, provider = "memory") {
  const memory = createMemoryKek(keyId, provider);
  const script: Step[] = [];
  const signals: (AbortSignal | undefined)[] = [];
  const deks: Buffer[] = [];
  /** The very buffers handed out by unwrap (the cache keeps these: tests watch them get zeroed). */
  const returned: Uint8Array[] = [];
  /** The very buffers wrap was handed. */
  const wrappedFrom: Uint8Array[] = [];
  const calls = { wrap: 0, unwrap: 0 };
  let defaultDelayMs = 0;

  async function before(signal: AbortSignal | undefined) {
    signals.push(signal);
    const step = script.shift();
    if (step === undefined) {
      if (defaultDelayMs > 0) await sleep(defaultDelayMs);
      return;
    }
    if (step.hang === true) await new Promise(() => {});
    if (step.delayMs !== undefined) await sleep(step.delayMs);
    if (step.fail !== undefined) {
      throw new EnvelopeError(step.fail, `scripted ${step.fail}`, {
        ...(step.retryAfterMs === undefined ? {} : { retryAfterMs: step.retryAfterMs }),
      });
    }
  }

  const kek: KeyEncryptionKey = {
    provider,
    keyId,
    async wrap(dek, context, options) {
      calls.wrap++;
      wrappedFrom.push(dek);
      deks.push(Buffer.from(dek));
      await before(options?.signal);
      return memory.kek.wrap(dek, context);
    },
    async unwrap(entry, context, options) {
      calls.unwrap++;
      await before(options?.signal);
      const dek = await memory.kek.unwrap(entry, context);
      deks.push(Buffer.from(dek));
      returned.push(dek);
      return dek;
    },
  };
  return {
    kek,
    /** The KEK's own key (AES-256), for scans that must never find it. */
    kekKey: memory.key,
    calls,
    signals,
    deks,
    returned,
    wrappedFrom,
    /** The next calls follow these steps, in order. */
    next: (...steps: Step[]) => script.push(...steps),
    /** Every unscripted call answers after this delay. */
    setDelay: (ms: number) => {
      defaultDelayMs = ms;
    },
  };
}

export async function failure(promise: Promise<unknown>): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof EnvelopeError)) throw new Error(`expected an EnvelopeError, got ${String(error)}`);
  return error;
}

export const isZero = (buffer: Uint8Array) => buffer.every((byte) => byte === 0);
