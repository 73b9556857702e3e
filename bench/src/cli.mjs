/**
 * The CLI measured as a user runs it (`pnpm bench`, after run.mjs): a fresh
 * `kms-envelope` process per run, against core's stream API over the same
 * files in the same run. Prints a Markdown table; writes results/cli-latest.json.
 *   - encrypt / decrypt of a 1 GiB file: MB/s of CPU time and of wall time, peak RSS, user and
 *     system CPU; CLI ÷ library as a ratio of medians and as the range of run-by-run ratios;
 *   - inspect of a 1 GiB envelope: bytes read beyond those of a 1 KiB envelope's inspect;
 *   - a 1 KiB local-key decrypt: wall time next to a bare `node -e 0`, and with Node's compile
 *     cache off (the CLI keeps it under HOME, which is the bench's work directory).
 * BENCH_QUICK=1: 128 MiB and fewer runs (a smoke test, not a result).
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  closeSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const QUICK = process.env.BENCH_QUICK === "1";
const MIB = 1024 * 1024;
const SIZE_MIB = QUICK ? 128 : 1024;
const RUNS = Number(process.env.BENCH_CLI_RUNS ?? (QUICK ? 1 : 3));
const SMALL_RUNS = QUICK ? 5 : 15;
const here = (file) => fileURLToPath(new URL(file, import.meta.url));
const BIN = here("../../packages/cli/dist/bin.js");
const PRELOAD = here("./cli-stats-preload.mjs");
const LIBRARY = here("./cli-library-child.mjs");
const log = (line) => process.stderr.write(`${line}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const work = mkdtempSync(join(os.tmpdir(), "kms-envelope-bench-cli-"));
const env = {
  ...process.env,
  KMS_ENVELOPE_KEYSTORE: join(work, "keystore.json"),
  KMS_ENVELOPE_CONFIG: "",
  HOME: work,
};
const statsFile = join(work, "stats.json");

/** Runs `args` under node with the stats preload; returns the stats. */
function measured(args, input, extraEnv = {}) {
  // Each run starts with no dirty pages left by the one before (outside the timing): otherwise a
  // contender that fsyncs pays for writing back the previous contender's gigabyte too.
  execFileSync("sync");
  const started = process.hrtime.bigint();
  execFileSync(process.execPath, ["--import", PRELOAD, ...args], {
    env: { ...env, ...extraEnv, BENCH_STATS_FILE: statsFile },
    cwd: work,
    stdio: [input === undefined ? "ignore" : "pipe", "ignore", "pipe"],
    input,
  });
  const wallSeconds = Number(process.hrtime.bigint() - started) / 1e9;
  // Wall time from the outside: process start-up and exit included.
  return { ...JSON.parse(readFileSync(statsFile, "utf8")), wallSeconds };
}

const cli = (...args) => measured([BIN, ...args]);
const library = (mode, input, output, durability = "none") =>
  measured([LIBRARY, mode, env.KMS_ENVELOPE_KEYSTORE, input, output, durability]);

/** Medians, with each figure's range over the runs (the machine is shared: the spread is part of the result). */
function summarize(runs, bytes) {
  const cpu = runs.map((run) => bytes / 1e6 / run.cpuSeconds);
  const wall = runs.map((run) => bytes / 1e6 / run.wallSeconds);
  const rss = runs.map((run) => run.peakRssMiB);
  const user = runs.map((run) => run.userSeconds);
  const system = runs.map((run) => run.systemSeconds);
  return {
    cpuMbPerSecond: median(cpu),
    wallMbPerSecond: median(wall),
    peakRssMiB: Math.max(...rss),
    cpuRange: [Math.min(...cpu), Math.max(...cpu)],
    wallRange: [Math.min(...wall), Math.max(...wall)],
    rssRange: [Math.min(...rss), Math.max(...rss)],
    userSecondsRange: [Math.min(...user), Math.max(...user)],
    systemSecondsRange: [Math.min(...system), Math.max(...system)],
  };
}

/**
 * CLI ÷ library throughput run by run: the CLI's run r against the library's
 * run r of the same round (interleaved, so under the same load), as a range.
 */
function ratioRange(cliRuns, libraryRuns) {
  const wall = cliRuns.map((run, i) => libraryRuns[i].wallSeconds / run.wallSeconds);
  const cpu = cliRuns.map((run, i) => libraryRuns[i].cpuSeconds / run.cpuSeconds);
  return { wall: [Math.min(...wall), Math.max(...wall)], cpu: [Math.min(...cpu), Math.max(...cpu)] };
}

try {
  execFileSync(process.execPath, [BIN, "keys", "create", "bench"], { env, stdio: "ignore" });
  const plain = join(work, "plain.bin");
  const block = randomBytes(MIB);
  const fd = openSync(plain, "w");
  for (let i = 0; i < SIZE_MIB; i++) writeSync(fd, block);
  closeSync(fd);
  const bytes = SIZE_MIB * MIB;

  log(`cli: ${SIZE_MIB} MiB file, ${RUNS} runs each, CLI and library interleaved`);
  const runs = {
    cli: { encrypt: [], decrypt: [], decryptToNull: [] },
    library: { encrypt: [], decrypt: [] },
    // The library writing its file as durably as the CLI does: fsync, rename, fsync the directory.
    libraryFsync: { encrypt: [], decrypt: [] },
  };
  for (let rep = 0; rep < RUNS; rep++) {
    runs.cli.encrypt.push(
      cli("encrypt", "-k", "local://bench", "-i", plain, "-o", join(work, "cli.kmse"), "-q"),
    );
    runs.library.encrypt.push(library("encrypt", plain, join(work, "lib.kmse")));
    runs.libraryFsync.encrypt.push(library("encrypt", plain, join(work, "lib.kmse"), "fsync"));
    runs.cli.decrypt.push(
      cli("decrypt", "-k", "local://bench", "-i", join(work, "cli.kmse"), "-o", join(work, "cli.out"), "-q"),
    );
    runs.library.decrypt.push(library("decrypt", join(work, "lib.kmse"), join(work, "lib.out")));
    runs.libraryFsync.decrypt.push(
      library("decrypt", join(work, "lib.kmse"), join(work, "lib.out"), "fsync"),
    );
    // The same without a file to fsync: the CLI's only extra work on a file is that fsync.
    runs.cli.decryptToNull.push(
      cli("decrypt", "-k", "local://bench", "-i", join(work, "cli.kmse"), "-o", "/dev/null", "-q"),
    );
  }
  const streams = {
    cli: {
      encrypt: summarize(runs.cli.encrypt, bytes),
      decrypt: summarize(runs.cli.decrypt, bytes),
      decryptToNull: summarize(runs.cli.decryptToNull, bytes),
    },
    library: {
      encrypt: summarize(runs.library.encrypt, bytes),
      decrypt: summarize(runs.library.decrypt, bytes),
    },
    libraryFsync: {
      encrypt: summarize(runs.libraryFsync.encrypt, bytes),
      decrypt: summarize(runs.libraryFsync.decrypt, bytes),
    },
  };
  const ratios = {};
  for (const op of ["encrypt", "decrypt"]) {
    ratios[op] = {
      library: ratioRange(runs.cli[op], runs.library[op]),
      libraryFsync: ratioRange(runs.cli[op], runs.libraryFsync[op]),
    };
  }
  rmSync(join(work, "cli.out"));
  rmSync(join(work, "lib.out"));
  rmSync(join(work, "lib.kmse"));

  // inspect: what a big envelope costs in reads over a small one (module loading is the same in both).
  writeFileSync(join(work, "small.txt"), randomBytes(1024));
  execFileSync(
    process.execPath,
    [BIN, "encrypt", "-k", "local://bench", "-i", join(work, "small.txt"), "-o", join(work, "small.kmse")],
    { env, stdio: "ignore" },
  );
  const inspectBig = median([0, 1, 2].map(() => cli("inspect", "-i", join(work, "cli.kmse")).readBytes));
  const inspectSmall = median([0, 1, 2].map(() => cli("inspect", "-i", join(work, "small.kmse")).readBytes));
  const smallEnvelope = statSync(join(work, "small.kmse")).size;
  const inspect = {
    envelopeBytes: statSync(join(work, "cli.kmse")).size,
    // The small inspect read its whole envelope; the big one read this much of its own.
    envelopeBytesRead: inspectBig - inspectSmall + smallEnvelope,
  };

  // 1 KiB local decrypt against a bare node start, interleaved; once more with Node's compile cache
  // off (NODE_DISABLE_COMPILE_CACHE=1: every module compiled again, as on a first run).
  const smallDecrypt = ["decrypt", "-i", join(work, "small.kmse"), "-o", join(work, "small.out"), "-q"];
  const wall = { decrypt1KiB: [], decrypt1KiBNoCache: [], nodeBare: [] };
  for (let i = 0; i < SMALL_RUNS; i++) {
    wall.decrypt1KiB.push(cli(...smallDecrypt).wallSeconds);
    wall.decrypt1KiBNoCache.push(
      measured([BIN, ...smallDecrypt], undefined, { NODE_DISABLE_COMPILE_CACHE: "1" }).wallSeconds,
    );
    wall.nodeBare.push(measured(["-e", "0"]).wallSeconds);
  }
  const ms = (values) => ({
    medianMs: median(values) * 1000,
    rangeMs: [Math.min(...values) * 1000, Math.max(...values) * 1000],
  });
  const startup = {
    decrypt1KiB: ms(wall.decrypt1KiB),
    decrypt1KiBNoCompileCache: ms(wall.decrypt1KiBNoCache),
    nodeBare: ms(wall.nodeBare),
    // Run by run (interleaved), the decrypt's wall time over the bare start's.
    ratioRange: [
      Math.min(...wall.decrypt1KiB.map((t, i) => t / wall.nodeBare[i])),
      Math.max(...wall.decrypt1KiB.map((t, i) => t / wall.nodeBare[i])),
    ],
  };

  const result = {
    date: new Date().toISOString(),
    node: process.version,
    quick: QUICK,
    sizeMiB: SIZE_MIB,
    runs: RUNS,
    streams,
    ratios,
    inspect,
    startup,
  };
  const directory = here("../results/");
  mkdirSync(directory, { recursive: true });
  writeFileSync(
    `${directory}${QUICK ? "cli-quick.tmp.json" : "cli-latest.json"}`,
    `${JSON.stringify(result, null, 2)}\n`,
  );
  console.log(renderCliTable(result));
} finally {
  rmSync(work, { recursive: true, force: true });
}

function renderCliTable(result) {
  const f = (value, digits = 0) =>
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });
  const range = ([low, high], digits = 0) => `${f(low, digits)}–${f(high, digits)}`;
  const { cli, library, libraryFsync } = result.streams;
  const cell = (s) =>
    `${f(s.wallMbPerSecond)} MB/s wall (${range(s.wallRange)}); ${f(s.cpuMbPerSecond)} CPU (${range(s.cpuRange)}); ${f(s.peakRssMiB)} MiB (${range(s.rssRange)})`;
  const ratio = (c, l, r) =>
    `${f(c.wallMbPerSecond / l.wallMbPerSecond, 2)} wall${r ? ` (${range(r.wall, 2)})` : ""}, ${f(c.cpuMbPerSecond / l.cpuMbPerSecond, 2)} CPU${r ? ` (${range(r.cpu, 2)})` : ""}`;
  const row = (label, c, op, r = result.ratios[op]) =>
    `| ${label} | ${cell(c)} | ${ratio(c, library[op], r?.library)} | ${ratio(c, libraryFsync[op], r?.libraryFsync)} |`;
  return [
    `Node ${result.node}; ${result.date}; medians of ${result.runs} interleaved runs (range), peak RSS the highest${result.quick ? " (QUICK: not a result)" : ""}`,
    "",
    `| ${result.sizeMiB} MiB file → file | throughput; peak RSS | CLI ÷ library stream | CLI ÷ library stream + fsync |`,
    "|---|--:|--:|--:|",
    row("encrypt (CLI)", cli.encrypt, "encrypt"),
    row("decrypt (CLI)", cli.decrypt, "decrypt"),
    row("decrypt -o /dev/null (CLI)", cli.decryptToNull, "decrypt", null),
    `| encrypt (library stream) | ${cell(library.encrypt)} | | |`,
    `| decrypt (library stream) | ${cell(library.decrypt)} | | |`,
    `| encrypt (library stream + fsync) | ${cell(libraryFsync.encrypt)} | | |`,
    `| decrypt (library stream + fsync) | ${cell(libraryFsync.decrypt)} | | |`,
    "",
    `inspect of a ${f(result.inspect.envelopeBytes / MIB)} MiB envelope: ${f(result.inspect.envelopeBytesRead)} bytes of it read.`,
    `Ratios: of medians, with the range of the run-by-run ratios (CLI run r against the library's run r of the same round).`,
    `CPU seconds of the CLI runs: user ${range(cli.encrypt.userSecondsRange, 2)} encrypt, ${range(cli.decrypt.userSecondsRange, 2)} decrypt; system ${range(cli.encrypt.systemSecondsRange, 2)} / ${range(cli.decrypt.systemSecondsRange, 2)}.`,
    `CPU seconds of the library stream runs: user ${range(library.encrypt.userSecondsRange, 2)} encrypt, ${range(library.decrypt.userSecondsRange, 2)} decrypt; system ${range(library.encrypt.systemSecondsRange, 2)} / ${range(library.decrypt.systemSecondsRange, 2)}.`,
    "",
    `1 KiB local-key decrypt (medians of ${SMALL_RUNS}, interleaved; range): ${f(result.startup.decrypt1KiB.medianMs)} ms wall (${range(result.startup.decrypt1KiB.rangeMs)}); with NODE_DISABLE_COMPILE_CACHE=1 ${f(result.startup.decrypt1KiBNoCompileCache.medianMs)} ms (${range(result.startup.decrypt1KiBNoCompileCache.rangeMs)}); bare \`node -e 0\` ${f(result.startup.nodeBare.medianMs)} ms (${range(result.startup.nodeBare.rangeMs)}); decrypt ÷ bare run by run ${range(result.startup.ratioRange, 1)}.`,
  ].join("\n");
}
