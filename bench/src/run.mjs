/**
 * `pnpm bench`: raw AES-256-GCM (the limit), the AWS Encryption SDK for
 * JavaScript (the peer, two suites) and kms-envelope, side by side in one
 * process run; 1 GiB streams in fresh child processes. Prints a table of
 * medians and ratios and writes bench/results/latest.json.
 * BENCH_QUICK=1 runs fewer, shorter repetitions (a smoke test, not a result).
 */
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { baselineCore } from "./baseline.mjs";
import { breakdown } from "./breakdown.mjs";
import { contenderFactories } from "./contenders.mjs";
import { interleavedInWorkers, median, spread } from "./measure.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const KIB = 1024;
const MIB = 1024 * KIB;
const REPETITIONS = QUICK ? 2 : 5;

const SIZES = [
  { label: "1 KiB", bytes: KIB, minMs: QUICK ? 60 : 250, minOps: 20 },
  { label: "64 KiB", bytes: 64 * KIB, minMs: QUICK ? 60 : 200, minOps: 5 },
  { label: "1 MiB", bytes: MIB, minMs: QUICK ? 60 : 200, minOps: 3 },
  { label: "64 MiB", bytes: 64 * MIB, minMs: QUICK ? 0 : 150, minOps: QUICK ? 1 : 2 },
];
const FRAME_SWEEP = [64 * KIB, 256 * KIB, MIB, 4 * MIB, 16 * MIB];

const mbPerSecond = (opsPerSecond, bytes) => (opsPerSecond * bytes) / 1e6;
const log = (line) => process.stderr.write(`${line}\n`);

/**
 * Encrypt and decrypt medians at one size for contenders given as
 * `{ factory, args, name }`, each in its own worker thread, interleaved.
 */
async function measureSize(specs, size) {
  return interleavedInWorkers(specs, {
    bytes: size.bytes,
    repetitions: REPETITIONS,
    warmupMs: QUICK ? 20 : 100,
    minMs: size.minMs,
    minOps: size.minOps,
  });
}

/** A contender as a worker builds it: an export of contenders.mjs and its arguments. */
function spec(factory, ...args) {
  return { factory, args, name: contenderFactories[factory](...args).name };
}

const STREAM_MIB = QUICK ? 128 : 1024;
const STREAM_CONTENDERS = ["raw", "kms-envelope", ...(baselineCore === undefined ? [] : ["baseline"])];

function child(...args) {
  const script = fileURLToPath(new URL("./stream-child.mjs", import.meta.url));
  const output = execFileSync(process.execPath, ["--expose-gc", script, ...args], {
    encoding: "utf8",
  }).trim();
  return output === "" ? undefined : JSON.parse(output);
}

/** Streams: each run in a fresh process; decrypt reads what a `prepare` process wrote. */
function measureStreams(repetitions) {
  const directory = mkdtempSync(join(os.tmpdir(), "kms-envelope-bench-"));
  try {
    const samples = {};
    for (const contender of STREAM_CONTENDERS) {
      samples[contender] = { encrypt: [], decrypt: [] };
      child("prepare", contender, String(STREAM_MIB), join(directory, contender));
    }
    for (let rep = 0; rep < repetitions; rep++) {
      for (const contender of STREAM_CONTENDERS) {
        samples[contender].encrypt.push(child("encrypt", contender, String(STREAM_MIB)));
        samples[contender].decrypt.push(child("decrypt", contender, join(directory, contender)));
      }
    }
    const streams = {};
    for (const [contender, runs] of Object.entries(samples)) {
      streams[contender] = {
        encryptMbPerSecond: median(runs.encrypt.map((run) => run.mbPerSecond)),
        decryptMbPerSecond: median(runs.decrypt.map((run) => run.mbPerSecond)),
        encryptSpread: spread(runs.encrypt.map((run) => run.mbPerSecond)),
        decryptSpread: spread(runs.decrypt.map((run) => run.mbPerSecond)),
        encryptPeakRssGrowthMiB: Math.max(...runs.encrypt.map((run) => run.peakRssGrowthMiB)),
        decryptPeakRssGrowthMiB: Math.max(...runs.decrypt.map((run) => run.peakRssGrowthMiB)),
      };
    }
    return streams;
  } finally {
    rmSync(directory, { recursive: true, force: true });
  }
}

async function main() {
  const started = Date.now();
  const limit = spec("rawAesGcm");
  const ours = spec("kmsEnvelope");
  const peerDefault = spec("awsDefault");
  const peerCommit = spec("awsCommitting");
  const baseline = baselineCore === undefined ? undefined : spec("kmsEnvelopeBaseline");
  const contenders = [limit, peerDefault, peerCommit, ours, ...(baseline === undefined ? [] : [baseline])];

  const buffers = [];
  for (const size of SIZES) {
    log(`buffers: ${size.label}`);
    const { encrypt, decrypt, spread: spreads } = await measureSize(contenders, size);
    for (const [direction, medians] of [
      ["encrypt", encrypt],
      ["decrypt", decrypt],
    ]) {
      const row = {
        size: size.label,
        bytes: size.bytes,
        direction,
        opsPerSecond: {},
        mbPerSecond: {},
        spread: {},
      };
      for (const contender of contenders) {
        row.opsPerSecond[contender.name] = medians.get(contender.name);
        row.mbPerSecond[contender.name] = mbPerSecond(medians.get(contender.name), size.bytes);
        row.spread[contender.name] = spreads[direction].get(contender.name);
      }
      row.ratioToLimit = medians.get(ours.name) / medians.get(limit.name);
      row.ratioToPeerCommit = medians.get(ours.name) / medians.get(peerCommit.name);
      row.ratioToPeerDefault = medians.get(ours.name) / medians.get(peerDefault.name);
      if (baseline !== undefined) row.ratioToBaseline = medians.get(ours.name) / medians.get(baseline.name);
      buffers.push(row);
    }
  }

  log("1 KiB breakdown");
  const steps = await breakdown({ repetitions: REPETITIONS, minMs: QUICK ? 40 : 150 });

  log("frame-length sweep (buffer API, 64 MiB and 1 MiB)");
  const sweep = [];
  for (const size of [SIZES[3], SIZES[2]]) {
    const variants = FRAME_SWEEP.map((frameLength) => spec("kmsEnvelope", frameLength));
    const { encrypt, decrypt } = await measureSize([limit, ...variants], size);
    for (const [index, frameLength] of FRAME_SWEEP.entries()) {
      const name = variants[index].name;
      sweep.push({
        size: size.label,
        frameLength,
        encryptRatioToLimit: encrypt.get(name) / encrypt.get(limit.name),
        decryptRatioToLimit: decrypt.get(name) / decrypt.get(limit.name),
      });
    }
  }

  log(`streams: ${STREAM_MIB} MiB in fresh child processes`);
  const streamRepetitions = QUICK ? 1 : 3;
  const streams = measureStreams(streamRepetitions);
  const streamRatios = {
    encrypt: streams["kms-envelope"].encryptMbPerSecond / streams.raw.encryptMbPerSecond,
    decrypt: streams["kms-envelope"].decryptMbPerSecond / streams.raw.decryptMbPerSecond,
  };

  const cpus = os.cpus();
  const result = {
    date: new Date().toISOString(),
    node: process.version,
    machine: {
      cpu: cpus[0]?.model ?? "unknown",
      cores: cpus.length,
      memoryGiB: Math.round(os.totalmem() / 2 ** 30),
      platform: `${os.platform()} ${os.release()}`,
    },
    quick: QUICK,
    repetitions: REPETITIONS,
    streamRepetitions,
    streamMiB: STREAM_MIB,
    contenders: {
      limit: limit.name,
      peerDefault: peerDefault.name,
      peerCommit: peerCommit.name,
      ours: ours.name,
      ...(baseline === undefined
        ? {}
        : { baseline: baseline.name, baselineDirectory: process.env.BENCH_BASELINE }),
    },
    buffers,
    frameSweep: sweep,
    breakdown: steps,
    streams,
    streamRatios,
    seconds: (Date.now() - started) / 1000,
  };
  const directory = fileURLToPath(new URL("../results/", import.meta.url));
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    `${directory}${QUICK ? "quick.tmp.json" : "latest.json"}`,
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(renderTable(result));
}

const fixed = (value, digits = 0) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

/** Markdown, so the same text goes into docs/performance.md. */
export function renderTable(result) {
  const { limit, peerDefault, peerCommit, ours } = result.contenders;
  const lines = [
    `${result.machine.cpu}, ${result.machine.cores} cores, ${result.machine.memoryGiB} GiB, ${result.machine.platform}; Node ${result.node}; ${result.date}${result.quick ? " (QUICK: not a result)" : ""}`,
    "",
    `| size | op | ${limit} | ${peerDefault} | ${peerCommit} | ${ours} | ×limit | ×peer (commit) | ×peer (default) |`,
    "|---|---|--:|--:|--:|--:|--:|--:|--:|",
  ];
  for (const row of result.buffers) {
    const cell = (name) =>
      row.bytes <= 1024 ? `${fixed(row.opsPerSecond[name])} ops/s` : `${fixed(row.mbPerSecond[name])} MB/s`;
    lines.push(
      `| ${row.size} | ${row.direction} | ${cell(limit)} | ${cell(peerDefault)} | ${cell(peerCommit)} | ${cell(ours)} | ${fixed(row.ratioToLimit, 2)} | ${fixed(row.ratioToPeerCommit, 1)} | ${fixed(row.ratioToPeerDefault, 1)} |`,
    );
  }
  const raw = result.streams.raw;
  const mine = result.streams["kms-envelope"];
  lines.push(
    "",
    `| ${result.streamMiB} MiB stream | raw AES-GCM stream | kms-envelope stream | ×limit |`,
    "|---|--:|--:|--:|",
    `| encrypt | ${fixed(raw.encryptMbPerSecond)} MB/s | ${fixed(mine.encryptMbPerSecond)} MB/s | ${fixed(result.streamRatios.encrypt, 2)} |`,
    `| decrypt | ${fixed(raw.decryptMbPerSecond)} MB/s | ${fixed(mine.decryptMbPerSecond)} MB/s | ${fixed(result.streamRatios.decrypt, 2)} |`,
    `| encrypt: peak RSS growth | ${fixed(raw.encryptPeakRssGrowthMiB, 1)} MiB | ${fixed(mine.encryptPeakRssGrowthMiB, 1)} MiB | |`,
    `| decrypt: peak RSS growth | ${fixed(raw.decryptPeakRssGrowthMiB, 1)} MiB | ${fixed(mine.decryptPeakRssGrowthMiB, 1)} MiB | |`,
    "",
    "| frame length | 64 MiB encrypt ×limit | 64 MiB decrypt ×limit | 1 MiB encrypt ×limit | 1 MiB decrypt ×limit |",
    "|--:|--:|--:|--:|--:|",
  );
  const frameLengths = [...new Set(result.frameSweep.map((entry) => entry.frameLength))];
  for (const frameLength of frameLengths) {
    const at = (size) =>
      result.frameSweep.find((entry) => entry.size === size && entry.frameLength === frameLength);
    const big = at("64 MiB");
    const small = at("1 MiB");
    lines.push(
      `| ${frameLength / 1024} KiB | ${fixed(big.encryptRatioToLimit, 2)} | ${fixed(big.decryptRatioToLimit, 2)} | ${fixed(small.encryptRatioToLimit, 2)} | ${fixed(small.decryptRatioToLimit, 2)} |`,
    );
  }
  if (result.contenders.baseline !== undefined) {
    const before = result.streams.baseline;
    lines.push(
      "",
      `| before → after (same run) | ${result.contenders.baseline} | ${ours} | after ÷ before | spread before / after |`,
      "|---|--:|--:|--:|--:|",
    );
    const pct = (value) => `${fixed(value * 100)}%`;
    for (const row of result.buffers) {
      const cell = (name) =>
        row.bytes <= 1024 ? `${fixed(row.opsPerSecond[name])} ops/s` : `${fixed(row.mbPerSecond[name])} MB/s`;
      lines.push(
        `| ${row.size} ${row.direction} | ${cell(result.contenders.baseline)} | ${cell(ours)} | ${fixed(row.ratioToBaseline, 2)} | ${pct(row.spread[result.contenders.baseline])} / ${pct(row.spread[ours])} |`,
      );
    }
    for (const direction of ["encrypt", "decrypt"]) {
      const key = `${direction}MbPerSecond`;
      lines.push(
        `| ${result.streamMiB} MiB stream ${direction} | ${fixed(before[key])} MB/s | ${fixed(mine[key])} MB/s | ${fixed(mine[key] / before[key], 2)} | ${pct(before[`${direction}Spread`])} / ${pct(mine[`${direction}Spread`])} |`,
      );
    }
  }
  lines.push("", "| one 1 KiB message, step by step | µs (CPU) |", "|---|--:|");
  for (const step of result.breakdown) lines.push(`| ${step.step} | ${fixed(step.microseconds, 1)} |`);
  lines.push(
    "",
    `(${fixed(result.seconds)} s, CPU time; medians of ${result.repetitions} interleaved repetitions, each contender in its own worker thread; streams: ${result.streamRepetitions} fresh processes each)`,
  );
  return lines.join("\n");
}

await main();
