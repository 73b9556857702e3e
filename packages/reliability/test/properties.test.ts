import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { loadCorpus } from "../src/corpus.js";
import { OPERATIONS } from "../src/oracle.js";
import { envelopeProperty, newTally } from "../src/property.js";

/**
 * Bounded for CI: 4,000 cases per operation, 20,000 in all. `pnpm fuzz` runs
 * the same property for as long as you like; FC_SEED replays a CI failure.
 */
const CASES_PER_OPERATION = 4_000;
const corpus = loadCorpus();
const seed =
  process.env.FC_SEED === undefined ? Date.now() ^ (Math.random() * 0x7fffffff) : Number(process.env.FC_SEED);
const tally = newTally();

afterAll(() => {
  console.log(`property seed ${seed} (operation i uses seed + i):  ${JSON.stringify(tally)}`);
});

describe("mutated envelopes: the source's plaintext or a typed damage error, nothing else", () => {
  for (const [index, operation] of OPERATIONS.entries()) {
    it(`${operation}: ${CASES_PER_OPERATION} mutated envelopes (bit flips, insertions, deletions, truncations, splices)`, async () => {
      await fc.assert(envelopeProperty(corpus, [operation], tally), {
        numRuns: CASES_PER_OPERATION,
        seed: seed + index,
        endOnFailure: false,
      });
      const results = tally.byOperation[operation] ?? {};
      expect(Object.values(results).reduce((sum, n) => sum + n, 0)).toBeGreaterThanOrEqual(
        CASES_PER_OPERATION,
      );
      // The mutations reach past the first check: failures come from more than one stage.
      expect(Object.keys(results).length).toBeGreaterThan(1);
    });
  }
});
