/** Bytes streamed between two young-generation collections (docs/performance.md, "The CLI"). */
export const COLLECT_EVERY = 4 * 1024 * 1024;

type Gc = (options: { type: "minor"; execution: "sync" }) => void;

let gc: Gc | null | undefined;

/**
 * V8's `gc`, which Node exposes only under `--expose-gc`: the flag is set
 * here and the function taken from a fresh context (the flag applies to
 * contexts made after it). Null if the runtime refuses.
 */
function exposedGc(): Gc | null {
  if (gc === undefined) {
    try {
      // Loaded here, not imported: a small input never loads node:v8 and node:vm at all.
      process.getBuiltinModule("node:v8").setFlagsFromString("--expose-gc");
      const found: unknown = process
        .getBuiltinModule("node:vm")
        .runInNewContext("typeof gc === 'function' ? gc : undefined");
      gc = typeof found === "function" ? (found as Gc) : null;
    } catch {
      gc = null;
    }
  }
  return gc;
}

/**
 * Returns a counter to call with each chunk's size: every `COLLECT_EVERY`
 * bytes it runs a young-generation GC.
 *
 * Why: each chunk of a transfer is a fresh Buffer (one per read, one per
 * cipher update) that dies young, but its bytes live outside V8's heap, and
 * V8 lets such external memory grow by 64 MiB before it collects it, in a
 * full mark-compact GC. That uncollected garbage was most of the CLI's peak
 * RSS (about 150 MiB for a 1 GiB file, of which ~75 MiB before any data),
 * and fresh memory for every chunk cost page faults and cache misses. A
 * scavenge of the small young generation every 4 MiB frees the Buffers
 * while they are few, so the same memory is reused: in the bench, peak RSS
 * fell to about 95 MiB and user CPU by 40–50% (docs/performance.md).
 */
export function youngCollector(): (bytes: number) => void {
  let since = 0;
  return (bytes) => {
    since += bytes;
    if (since < COLLECT_EVERY) return;
    since = 0;
    // Looked up only now: a small input never pays for the modules and the extra context.
    exposedGc()?.({ type: "minor", execution: "sync" });
  };
}
