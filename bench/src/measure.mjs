/**
 * Timing helpers: every figure is a median over repetitions, taken in one
 * process run. Time is this process's CPU time (user + system, all threads),
 * not wall time: on a shared 2-core machine other processes steal whole
 * time slices, which wall time would charge to whoever was running.
 */
import { Worker } from "node:worker_threads";

export function cpuMilliseconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
}

/** (max − min) / median: how far apart one contender's repetitions lie. */
export function spread(values) {
  return (Math.max(...values) - Math.min(...values)) / median(values);
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = sorted.length >> 1;
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Runs `operation` (async allowed) back to back for at least `minMs` and at
 * least `minOps` times; returns operations per second for that window.
 * The clock is read between batches, not after every operation: reading CPU
 * time is a system call (~0.85 µs here), 12% of one raw 1 KiB AES-GCM call.
 * Batches double while a batch takes under a twentieth of the window.
 */
export async function opsPerSecond(operation, { minMs, minOps = 1 }) {
  let ops = 0;
  let batch = 1;
  const start = cpuMilliseconds();
  let elapsed = 0;
  while (ops < minOps || elapsed < minMs) {
    const before = elapsed;
    for (let i = 0; i < batch; i++) await operation();
    ops += batch;
    elapsed = cpuMilliseconds() - start;
    if (elapsed - before < minMs / 20) batch *= 2;
  }
  return (ops * 1000) / elapsed;
}

/**
 * Measures every step `repetitions` times, interleaved (A B C A B C …) so that
 * the machine's drifts hit all of them alike; returns the medians. For small
 * steps in this thread (the breakdown). No forced collection between samples:
 * a full collection frees the hidden classes of short-lived objects and
 * deoptimises the code built on them (measured: a 1 KiB decrypt ran ~50%
 * slower for thousands of calls after each `gc()`), so it would time the
 * re-optimisation, not the step.
 */
export async function interleaved(contenders, { repetitions, warmupMs, minMs, minOps }) {
  for (const contender of contenders) await opsPerSecond(contender.operation, { minMs: warmupMs, minOps: 1 });
  const samples = new Map(contenders.map((contender) => [contender.name, []]));
  for (let rep = 0; rep < repetitions; rep++) {
    for (const contender of contenders) {
      samples.get(contender.name).push(await opsPerSecond(contender.operation, { minMs, minOps }));
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}

/**
 * Encrypt and decrypt at one size for contenders given as
 * `{ factory, args }` (exports of contenders.mjs), each in its own worker
 * (contender-worker.mjs). Warm-up, then `repetitions` rounds in which every
 * contender takes one encrypt sample in turn, then one decrypt sample in
 * turn; returns the medians by contender name, and under `spread` each
 * contender's (max − min) / median over the repetitions.
 */
export async function interleavedInWorkers(specs, { bytes, repetitions, warmupMs, minMs, minOps }) {
  const script = new URL("./contender-worker.mjs", import.meta.url);
  const workers = await Promise.all(
    specs.map(
      (spec) =>
        new Promise((resolve, reject) => {
          const worker = new Worker(script, { workerData: { ...spec, bytes } });
          worker.once("error", reject);
          worker.once("message", ({ ready }) => resolve({ worker, name: ready }));
        }),
    ),
  );
  const sample = ({ worker }, direction, window) =>
    new Promise((resolve, reject) => {
      worker.once("error", reject);
      worker.once("message", ({ value }) => {
        worker.off("error", reject);
        resolve(value);
      });
      worker.postMessage({ direction, ...window });
    });
  try {
    const result = {};
    for (const direction of ["encrypt", "decrypt"]) {
      for (const entry of workers) await sample(entry, direction, { minMs: warmupMs, minOps: 1 });
      const samples = new Map(workers.map(({ name }) => [name, []]));
      for (let rep = 0; rep < repetitions; rep++) {
        for (const entry of workers)
          samples.get(entry.name).push(await sample(entry, direction, { minMs, minOps }));
      }
      result[direction] = new Map([...samples].map(([name, values]) => [name, median(values)]));
      result.spread ??= {};
      result.spread[direction] = new Map([...samples].map(([name, values]) => [name, spread(values)]));
    }
    return result;
  } finally {
    await Promise.all(workers.map(({ worker }) => worker.terminate()));
  }
}
