import fc from "fast-check";
import type { Corpus } from "./corpus.js";
import { chunkingArbitrary, mutationArbitrary } from "./mutations.js";
import { type Case, type Operation, type Outcome, runCase } from "./oracle.js";

export interface Tally {
  /** `operation → result → count`. */
  readonly byOperation: Record<string, Record<string, number>>;
  /** `mutation kind → count`. */
  readonly byMutation: Record<string, number>;
  /** `mutation kind → count` of the cases that still gave the source's plaintext (unauthenticated bytes). */
  readonly okByMutation: Record<string, number>;
  cases: number;
}

export function newTally(): Tally {
  return { byOperation: {}, byMutation: {}, okByMutation: {}, cases: 0 };
}

function count(tally: Tally, testCase: Case, outcome: Outcome): void {
  tally.cases++;
  const operation = tally.byOperation[testCase.operation] ?? {};
  tally.byOperation[testCase.operation] = operation;
  operation[outcome.result] = (operation[outcome.result] ?? 0) + 1;
  const kind = testCase.mutation.kind;
  tally.byMutation[kind] = (tally.byMutation[kind] ?? 0) + 1;
  if (outcome.result === "ok" && testCase.operation !== "inspect")
    tally.okByMutation[kind] = (tally.okByMutation[kind] ?? 0) + 1;
}

export function caseArbitrary(corpus: Corpus, operations: readonly Operation[]): fc.Arbitrary<Case> {
  return fc.record({
    operation: fc.constantFrom(...operations),
    source: fc.nat(corpus.sources.length - 1),
    mutation: mutationArbitrary,
    chunking: chunkingArbitrary,
    withExpectedContext: fc.boolean(),
  });
}

/**
 * The property: every mutated envelope gives the source's own plaintext or a
 * typed damage error, never other plaintext, never a hang. Failures shrink to
 * a minimal case and report the seed that replays them.
 */
export function envelopeProperty(
  corpus: Corpus,
  operations: readonly Operation[],
  tally: Tally,
  onCase?: (tally: Tally) => void,
) {
  return fc.asyncProperty(caseArbitrary(corpus, operations), async (testCase) => {
    const outcome = await runCase(testCase, corpus);
    count(tally, testCase, outcome);
    onCase?.(tally);
    if (outcome.violation !== undefined) throw new Error(outcome.violation);
  });
}
