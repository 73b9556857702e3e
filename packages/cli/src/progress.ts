import { Transform } from "node:stream";

/** Inputs above this show a progress display (when standard error is a terminal). */
export const PROGRESS_THRESHOLD = 8 * 1024 * 1024;

const UNITS = ["B", "KiB", "MiB", "GiB", "TiB"];

export function formatBytes(bytes: number): string {
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < UNITS.length - 1) {
    value /= 1024;
    unit++;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${UNITS[unit]}`;
}

function formatSeconds(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return "--";
  const s = Math.round(seconds);
  return s >= 60 ? `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s` : `${s}s`;
}

export interface ProgressOptions {
  readonly label: string;
  /** Total bytes, when the input is a regular file. */
  readonly total: number | undefined;
  /** Off with --quiet or when standard error is not a terminal. */
  readonly enabled: boolean;
}

/**
 * A pass-through stage counting input bytes. Past `PROGRESS_THRESHOLD` (or
 * from the start, for a file known to be larger) it draws bytes, rate and
 * ETA on standard error with `cli-progress`, loaded only then.
 */
export function progressStage(options: ProgressOptions): { stages: Transform[]; stop: () => void } {
  // Off: no stage at all, so a quiet or piped run pays nothing per chunk.
  if (!options.enabled) return { stages: [], stop: () => {} };
  let done = 0;
  let bar: { update(value: number): void; stop(): void } | undefined;
  let loading = false;
  let stopped = false;
  const started = Date.now();
  const wanted = () =>
    options.enabled &&
    (done > PROGRESS_THRESHOLD || (options.total !== undefined && options.total > PROGRESS_THRESHOLD));
  const start = () => {
    loading = true;
    void import("cli-progress").then(({ default: progress }) => {
      if (stopped) return;
      const instance = new progress.SingleBar({
        stream: process.stderr,
        hideCursor: true,
        clearOnComplete: true,
        fps: 5,
        format: (_options, params) => {
          const seconds = Math.max((Date.now() - started) / 1000, 0.001);
          const rate = params.value / seconds;
          const head = `${options.label} ${formatBytes(params.value)}`;
          if (options.total === undefined) return `${head}  ${formatBytes(rate)}/s`;
          const percent = options.total === 0 ? 100 : Math.floor((params.value / options.total) * 100);
          return `${head} / ${formatBytes(options.total)} (${percent}%)  ${formatBytes(rate)}/s  ETA ${formatSeconds((options.total - params.value) / rate)}`;
        },
      });
      instance.start(options.total ?? 0, done);
      bar = instance;
    });
  };
  const stage = new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      done += chunk.length;
      if (bar !== undefined) bar.update(done);
      else if (!loading && wanted()) start();
      callback(null, chunk);
    },
  });
  return {
    stages: [stage],
    stop: () => {
      stopped = true;
      bar?.update(done);
      bar?.stop();
    },
  };
}
