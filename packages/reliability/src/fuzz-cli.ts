import { writeFileSync } from "node:fs";
import { parseArgs } from "node:util";
import fc from "fast-check";
import { loadCorpus } from "./corpus.js";
import { OPERATIONS, type Operation } from "./oracle.js";
import { envelopeProperty, newTally } from "./property.js";

/**
 * `pnpm fuzz [--cases N] [--seed S] [--operations a,b] [--path P] [--out file.json]`
 *
 * The CI property (test/properties.test.ts) for a long run: N cases split
 * evenly over the operations, operation i with seed S + i. Prints the seed
 * first, so a run that dies can be replayed; a failure prints the exact
 * command that replays its shrunk counterexample.
 */
const { values } = parseArgs({
  options: {
    cases: { type: "string", default: "1000000" },
    seed: { type: "string" },
    operations: { type: "string", default: OPERATIONS.join(",") },
    path: { type: "string" },
    out: { type: "string" },
  },
});

const cases = Number(values.cases);
const seed =
  values.seed === undefined ? (Date.now() ^ (Math.random() * 0x7fffffff)) | 0 : Number(values.seed);
const operations = values.operations.split(",") as Operation[];
if (!Number.isSafeInteger(cases) || cases < 1 || !Number.isSafeInteger(seed)) {
  console.error("usage: pnpm fuzz [--cases N] [--seed S] [--operations decrypt,inspect,…] [--path P]");
  process.exit(2);
}
for (const operation of operations) {
  if (!OPERATIONS.includes(operation)) {
    console.error(`unknown operation ${operation}; one of ${OPERATIONS.join(", ")}`);
    process.exit(2);
  }
}

console.log(`fuzz: seed ${seed}, ${cases} cases over ${operations.join(", ")}`);
const corpus = loadCorpus();
const tally = newTally();
const started = Date.now();
// Progress by count, not by timer: cases settle in microtasks, so a timer may never get a turn.
const onCase = (current: typeof tally) => {
  if (current.cases % 100_000 === 0) {
    const memory = Math.round(process.memoryUsage().rss / 2 ** 20);
    console.log(
      `  ${current.cases} cases, ${Math.round((Date.now() - started) / 1000)} s, rss ${memory} MiB`,
    );
  }
};

let failed = false;
const perOperation = Math.ceil(cases / operations.length);
for (const operation of operations) {
  const operationSeed = seed + OPERATIONS.indexOf(operation);
  const details = await fc.check(envelopeProperty(corpus, [operation], tally, onCase), {
    numRuns: perOperation,
    seed: operationSeed,
    ...(values.path === undefined ? {} : { path: values.path }),
  });
  if (details.failed) {
    failed = true;
    console.error(`FAILED ${operation}: ${String(details.errorInstance)}`);
    console.error(`  counterexample: ${fc.stringify(details.counterexample)}`);
    console.error(
      `  replay: pnpm fuzz --seed ${seed} --operations ${operation} --path ${details.counterexamplePath} --cases ${perOperation}`,
    );
  }
}

const seconds = (Date.now() - started) / 1000;
const summary = { seed, seconds, node: process.version, failed, ...tally };
console.log(JSON.stringify(summary, null, 2));
if (values.out !== undefined) writeFileSync(values.out, `${JSON.stringify(summary, null, 2)}\n`);
process.exit(failed ? 1 : 0);
