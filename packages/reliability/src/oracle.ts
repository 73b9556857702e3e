import { decrypt, decryptStream, EnvelopeError, type ErrorCode, inspect, rewrap } from "@kms-envelope/core";
import type { Corpus } from "./corpus.js";
import { applyMutation, chunk, type Mutation } from "./mutations.js";

export const OPERATIONS = ["decrypt", "inspect", "decrypt-stream", "rewrap", "decrypt-armored"] as const;
export type Operation = (typeof OPERATIONS)[number];

/**
 * The only codes a damaged envelope may produce: each names something wrong
 * with the bytes (or no key able to open them). Anything else, a non-typed
 * throw, a hang, or plaintext that is not the source's, is a violation.
 */
export const DAMAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  "MALFORMED",
  "TAMPERED",
  "UNSUPPORTED_VERSION",
  "UNSUPPORTED_SUITE",
  "LIMIT_EXCEEDED",
  "NO_USABLE_KEY",
  "CONTEXT_MISMATCH",
]);

/** What one KEK may say inside `NO_USABLE_KEY.failures` about a damaged wrapped key. */
export const UNWRAP_DAMAGE_CODES: ReadonlySet<ErrorCode> = new Set([
  "TAMPERED",
  "MALFORMED",
  "KEY_ID_MISMATCH",
]);

export interface Case {
  readonly operation: Operation;
  readonly source: number;
  readonly mutation: Mutation;
  readonly chunking: readonly number[];
  readonly withExpectedContext: boolean;
}

export interface Outcome {
  /** "ok" (the source's own plaintext, or a header for inspect) or the error code. */
  readonly result: "ok" | ErrorCode;
  readonly violation?: string | undefined;
}

const HANG_MS = 10_000;

export function classify(error: unknown): Outcome {
  if (!(error instanceof EnvelopeError)) {
    return {
      result: "KMS_ERROR",
      violation: `untyped throw: ${(error as Error)?.name}: ${(error as Error)?.message}`,
    };
  }
  if (!DAMAGE_CODES.has(error.code))
    return { result: error.code, violation: `code ${error.code}: ${error.message}` };
  for (const failure of error.failures) {
    if (!(failure.error instanceof EnvelopeError) || !UNWRAP_DAMAGE_CODES.has(failure.error.code)) {
      return {
        result: error.code,
        violation: `failure code ${failure.error?.code}: ${failure.error?.message}`,
      };
    }
  }
  return { result: error.code };
}

function matchesOne(plaintext: Uint8Array, allowed: readonly Uint8Array[], prefixOnly: boolean): boolean {
  const bytes = Buffer.from(plaintext);
  return allowed.some((candidate) =>
    prefixOnly
      ? bytes.length <= candidate.length && bytes.equals(Buffer.from(candidate).subarray(0, bytes.length))
      : bytes.equals(Buffer.from(candidate)),
  );
}

async function streamDecrypt(
  bytes: Uint8Array,
  sizes: readonly number[],
  corpus: Corpus,
): Promise<{ out: Uint8Array; error?: unknown }> {
  const stream = decryptStream({ keyring: corpus.keyring });
  stream.header.catch(() => undefined);
  const parts: Buffer[] = [];
  return new Promise((resolve) => {
    let failed = false;
    stream.on("data", (part: Buffer) => parts.push(part));
    stream.on("error", (error) => {
      failed = true;
      resolve({ out: Buffer.concat(parts), error });
    });
    stream.on("end", () => resolve({ out: Buffer.concat(parts) }));
    for (const part of chunk(bytes, sizes)) {
      if (failed) break;
      stream.write(part);
    }
    if (!failed) stream.end();
  });
}

async function run(testCase: Case, corpus: Corpus): Promise<Outcome> {
  const source = corpus.sources[testCase.source % corpus.sources.length]!;
  const envelopes = corpus.sources.map((entry) => entry.envelope);
  if (testCase.operation === "decrypt-armored") {
    const armored = source.armored ?? corpus.sources.find((entry) => entry.armored)?.armored;
    const own = corpus.sources.find((entry) => entry.armored === armored)!;
    const text = Buffer.from(
      applyMutation(Buffer.from(armored!, "latin1"), testCase.mutation, [Buffer.from(armored!, "latin1")])
        .bytes,
    ).toString("latin1");
    try {
      const { plaintext } = await decrypt(text, { keyring: corpus.keyring });
      return matchesOne(plaintext, [own.plaintext], false)
        ? { result: "ok" }
        : { result: "ok", violation: "armored decrypt released other plaintext" };
    } catch (error) {
      return classify(error);
    }
  }
  const mutated = applyMutation(source.envelope, testCase.mutation, envelopes);
  const allowed = [source.plaintext];
  if (mutated.spliceWith !== undefined) allowed.push(corpus.sources[mutated.spliceWith]!.plaintext);
  const expectedContext = testCase.withExpectedContext ? source.context : undefined;
  try {
    switch (testCase.operation) {
      case "decrypt": {
        const { plaintext } = await decrypt(mutated.bytes, { keyring: corpus.keyring, expectedContext });
        return matchesOne(plaintext, allowed, false)
          ? { result: "ok" }
          : { result: "ok", violation: "decrypt released plaintext that is not a source's" };
      }
      case "inspect":
        inspect(mutated.bytes);
        return { result: "ok" };
      case "decrypt-stream": {
        const { out, error } = await streamDecrypt(mutated.bytes, testCase.chunking, corpus);
        if (!matchesOne(out, allowed, error !== undefined)) {
          return { result: "ok", violation: "decryptStream emitted plaintext that is not a source's" };
        }
        if (error !== undefined) throw error;
        return { result: "ok" };
      }
      case "rewrap": {
        const result = await rewrap(mutated.bytes, {
          from: corpus.keyring,
          to: corpus.rewrapTarget,
          expectedContext,
        });
        // Rewrap copies the body unread, so a damaged body passes; decrypting the result must still catch it.
        try {
          const { plaintext } = await decrypt(result.envelope, { keyring: corpus.rewrapTarget });
          return matchesOne(plaintext, allowed, false)
            ? { result: "ok" }
            : { result: "ok", violation: "a rewrapped envelope released plaintext that is not a source's" };
        } catch (error) {
          return classify(error);
        }
      }
    }
  } catch (error) {
    return classify(error);
  }
}

/** Runs one case; a case that does not settle in 10 s (or `hangMs`) is a hang. */
export async function runCase(testCase: Case, corpus: Corpus, hangMs = HANG_MS): Promise<Outcome> {
  let timer: NodeJS.Timeout | undefined;
  const hang = new Promise<Outcome>((resolve) => {
    timer = setTimeout(
      () => resolve({ result: "ABORTED", violation: `hang: no result in ${hangMs} ms` }),
      hangMs,
    );
  });
  try {
    return await Promise.race([run(testCase, corpus), hang]);
  } finally {
    clearTimeout(timer);
  }
}
