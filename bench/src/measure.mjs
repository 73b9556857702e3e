/**
 * Timing helpers: every figure is a median over repetitions, taken in one
 * process run. Time is this process's CPU time (user + system, all threads),
 * not wall time: on a shared 2-core machine other processes steal whole
 * time slices, which wall time would charge to whoever was running.
 */
export function cpuMilliseconds() {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
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
 * Measures every contender `repetitions` times, interleaved (A B C A B C …) so
 * that the machine's drifts hit all of them alike; returns the medians.
 */
export async function interleaved(contenders, { repetitions, warmupMs, minMs, minOps }) {
  for (const contender of contenders) await opsPerSecond(contender.operation, { minMs: warmupMs, minOps: 1 });
  const samples = new Map(contenders.map((contender) => [contender.name, []]));
  for (let rep = 0; rep < repetitions; rep++) {
    for (const contender of contenders) {
      globalThis.gc?.();
      samples.get(contender.name).push(await opsPerSecond(contender.operation, { minMs, minOps }));
    }
  }
  return new Map([...samples].map(([name, values]) => [name, median(values)]));
}
