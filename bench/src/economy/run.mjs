/**
 * `pnpm bench` (second part): KMS economy against the AWS KMS emulator, driven
 * by the real @aws-sdk/client-kms (and, for the peer, the AWS Encryption SDK's
 * KMS keyring through the same emulator). Counts KMS calls at the emulator,
 * measures small-message throughput with 20 ms of added latency, and a burst
 * of 10x the configured rate. Writes bench/results/economy.json and the chart
 * docs/images/kms-calls.svg, and prints Markdown for docs/performance.md.
 * BENCH_QUICK=1: 1,000 messages instead of 10,000, shorter windows (a smoke test).
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { fileURLToPath } from "node:url";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createDataKeyCache, createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { createLocalKek } from "@kms-envelope/local";
import { peerConcurrentDecrypts } from "./peer.mjs";
import { kmsCallsChart } from "./svg-chart.mjs";

const QUICK = process.env.BENCH_QUICK === "1";
const MESSAGES = QUICK ? 1_000 : 10_000;
const CONCURRENT = 1_000;
const CHECKPOINT = MESSAGES / 20;
const WINDOW_MS = QUICK ? 500 : 2_000;
const LATENCY_MS = 20;
const context = { purpose: "bench" };
const log = (line) => process.stderr.write(`${line}\n`);
const median = (values) => [...values].sort((a, b) => a - b)[values.length >> 1];

/** Runs `count` tasks, `concurrency` at a time. */
async function pool(count, concurrency, task) {
  let next = 0;
  const results = new Array(count);
  await Promise.all(
    Array.from({ length: Math.min(count, concurrency) }, async () => {
      while (next < count) {
        const i = next++;
        results[i] = await task(i);
      }
    }),
  );
  return results;
}

const cacheFor = (maxMessages) =>
  maxMessages === undefined
    ? undefined
    : createDataKeyCache({
        encrypt: { maxAgeMs: 10 * 60_000, maxMessages, maxBytes: 2 ** 40 },
        decrypt: { ttlMs: 10 * 60_000, capacity: 1_000 },
      });

/** KMS calls for MESSAGES encrypts (sampled every CHECKPOINT messages) and then MESSAGES decrypts. */
async function kmsCalls(emulator, label, maxMessages) {
  const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
  const cache = cacheFor(maxMessages);
  const keyring = createKeyring({ primary: kek, ...(cache === undefined ? {} : { cache }) });
  emulator.calls.reset();
  const plaintext = Buffer.alloc(1024, 1);
  const envelopes = [];
  const series = [[0, 0]];
  for (let done = 0; done < MESSAGES; done += CHECKPOINT) {
    envelopes.push(...(await pool(CHECKPOINT, 16, () => encrypt(plaintext, { keyring, context }))));
    series.push([done + CHECKPOINT, emulator.calls.count("GenerateDataKey")]);
  }
  await pool(MESSAGES, 16, (i) => decrypt(envelopes[i], { keyring }));
  cache?.dispose();
  const result = {
    label,
    maxMessages: maxMessages ?? null,
    encryptCalls: emulator.calls.count("GenerateDataKey"),
    decryptCalls: emulator.calls.count("Decrypt"),
    series,
  };
  log(`  ${label}: ${result.encryptCalls} GenerateDataKey, ${result.decryptCalls} Decrypt`);
  return result;
}

/** 1,000 envelopes sharing one DEK, decrypted all at once: Decrypt calls at the emulator. */
async function ourConcurrentDecrypts(emulator) {
  const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
  const shared = createKeyring({ primary: kek, cache: cacheFor(CONCURRENT) });
  const envelopes = await pool(CONCURRENT, 16, (i) =>
    encrypt(Buffer.from(`record ${i}`), { keyring: shared, context }),
  );
  emulator.calls.reset();
  const keyring = createKeyring({ primary: kek, cache: cacheFor(CONCURRENT) });
  await Promise.all(envelopes.map((envelope) => decrypt(envelope, { keyring })));
  return emulator.calls.count("Decrypt");
}

/** Wall-clock ops/s of one caller doing `operation` back to back for WINDOW_MS (medians of 3). */
async function wallOpsPerSecond(operation) {
  for (let i = 0; i < 20; i++) await operation(i);
  const samples = [];
  for (let rep = 0; rep < 3; rep++) {
    let ops = 0;
    const start = performance.now();
    while (performance.now() - start < WINDOW_MS) await operation(ops++);
    samples.push((ops * 1000) / (performance.now() - start));
  }
  return median(samples);
}

/** 1 KiB messages, one caller: local KEK vs the emulator with 20 ms added per call, with and without the cache. */
async function latencyThroughput(emulator) {
  const plaintext = Buffer.alloc(1024, 2);
  const rows = [];
  const measure = async (label, keyring) => {
    const envelopes = [];
    const encryptOps = await wallOpsPerSecond(async (i) => {
      const envelope = await encrypt(plaintext, { keyring, context });
      if (envelopes.length < 500) envelopes.push(envelope);
      return i;
    });
    const decryptOps = await wallOpsPerSecond((i) => decrypt(envelopes[i % envelopes.length], { keyring }));
    rows.push({ label, encryptOps, decryptOps });
    log(`  ${label}: encrypt ${encryptOps.toFixed(0)} ops/s, decrypt ${decryptOps.toFixed(0)} ops/s`);
  };
  await measure(
    "local KEK (no KMS call)",
    createKeyring({ primary: createLocalKek({ key: randomBytes(32), keyId: "bench" }) }),
  );
  const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
  emulator.faults.inject({ kind: "latency", delayMs: LATENCY_MS }, 20_000);
  await measure(
    `AWS emulator +${LATENCY_MS} ms, cache`,
    createKeyring({ primary: kek, cache: cacheFor(100_000) }),
  );
  await measure(`AWS emulator +${LATENCY_MS} ms, no cache`, createKeyring({ primary: kek }));
  emulator.faults.clear();
  const local = rows[0];
  for (const row of rows) {
    row.encryptRatioToLocal = row.encryptOps / local.encryptOps;
    row.decryptRatioToLocal = row.decryptOps / local.decryptOps;
  }
  return rows;
}

/** 10x the configured rate at once: calls the emulator saw against what the bucket allows. */
async function burst(emulator) {
  const rate = 50;
  const burstSize = 10;
  const deadlineMs = 2_000;
  const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
  const keyring = createKeyring({
    primary: kek,
    kms: { rateLimit: { requestsPerSecond: rate, burst: burstSize }, deadlineMs },
  });
  emulator.calls.reset();
  const start = performance.now();
  const outcomes = await Promise.all(
    Array.from({ length: 10 * rate }, () =>
      encrypt(Buffer.from("burst"), { keyring, context }).then(
        () => ({ code: "ok", ms: performance.now() - start }),
        (error) => ({ code: error.code ?? "untyped", ms: performance.now() - start }),
      ),
    ),
  );
  const elapsedS = (performance.now() - start) / 1000;
  const codes = {};
  for (const { code } of outcomes) codes[code] = (codes[code] ?? 0) + 1;
  return {
    rate,
    burst: burstSize,
    deadlineMs,
    requested: outcomes.length,
    kmsCalls: emulator.calls.count("GenerateDataKey"),
    allowed: burstSize + Math.ceil(rate * elapsedS),
    elapsedS,
    codes,
    slowestMs: Math.max(...outcomes.map((o) => o.ms)),
  };
}

async function main() {
  const started = Date.now();
  const emulator = await startAwsKmsEmulator();
  try {
    log(`KMS calls for ${MESSAGES.toLocaleString("en-US")} encrypts and decrypts (1 KiB, 16 in flight):`);
    const calls = [
      await kmsCalls(emulator, "no cache"),
      await kmsCalls(
        emulator,
        `cache, maxMessages ${(MESSAGES / 10).toLocaleString("en-US")}`,
        MESSAGES / 10,
      ),
      await kmsCalls(emulator, `cache, maxMessages ${MESSAGES.toLocaleString("en-US")}`, MESSAGES),
    ];
    log(`${CONCURRENT} concurrent decrypts of envelopes sharing one DEK:`);
    const concurrent = {
      ours: await ourConcurrentDecrypts(emulator),
      ...(await peerConcurrentDecrypts(emulator, CONCURRENT)),
    };
    log(`  ${JSON.stringify(concurrent)}`);
    log(`Small messages with ${LATENCY_MS} ms of added KMS latency (wall clock, one caller):`);
    const latency = await latencyThroughput(emulator);
    log("Burst of 10x the rate limit:");
    const burstResult = await burst(emulator);
    log(`  ${JSON.stringify(burstResult)}`);
    const result = {
      date: new Date().toISOString(),
      node: process.version,
      machine: { cpu: os.cpus()[0]?.model ?? "unknown", cores: os.cpus().length },
      quick: QUICK,
      messages: MESSAGES,
      calls,
      concurrent,
      latency,
      burst: burstResult,
      seconds: (Date.now() - started) / 1000,
    };
    const results = fileURLToPath(new URL("../../results/", import.meta.url));
    mkdirSync(results, { recursive: true });
    writeFileSync(
      `${results}${QUICK ? "economy-quick.tmp.json" : "economy.json"}`,
      `${JSON.stringify(result, null, 2)}\n`,
    );
    const chart = kmsCallsChart({
      title: `KMS calls to encrypt ${MESSAGES.toLocaleString("en-US")} messages (AWS KMS emulator)`,
      xLabel: "messages encrypted",
      yLabel: "GenerateDataKey calls (log scale, 1 + calls)",
      xMax: MESSAGES,
      series: calls.map((run) => ({ name: run.label, points: run.series })),
    });
    const chartPath = QUICK
      ? `${results}kms-calls-quick.tmp.svg`
      : fileURLToPath(new URL("../../../docs/images/kms-calls.svg", import.meta.url));
    mkdirSync(fileURLToPath(new URL(".", `file://${chartPath}`)), { recursive: true });
    writeFileSync(chartPath, chart);
    console.log(renderEconomy(result));
  } finally {
    await emulator.close();
  }
}

const fixed = (value, digits = 0) =>
  value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits });

export function renderEconomy(result) {
  const lines = [
    `${result.machine.cpu}, ${result.machine.cores} cores; Node ${result.node}; ${result.date}${result.quick ? " (QUICK: not a result)" : ""}`,
    "",
    `| ${fixed(result.messages)} messages (1 KiB) | GenerateDataKey calls | Decrypt calls |`,
    "|---|--:|--:|",
    ...result.calls.map(
      (run) => `| ${run.label} | ${fixed(run.encryptCalls)} | ${fixed(run.decryptCalls)} |`,
    ),
    "",
    `| ${fixed(CONCURRENT)} concurrent decrypts, one shared DEK | Decrypt calls |`,
    "|---|--:|",
    `| kms-envelope, decrypt cache (single-flight) | ${fixed(result.concurrent.ours)} |`,
    `| AWS Encryption SDK, KMS keyring | ${fixed(result.concurrent.peer)} |`,
    `| AWS Encryption SDK, caching CMM | ${fixed(result.concurrent.peerCaching)} |`,
    "",
    "| 1 KiB, one caller (wall clock) | encrypt ops/s | ×local | decrypt ops/s | ×local |",
    "|---|--:|--:|--:|--:|",
    ...result.latency.map(
      (row) =>
        `| ${row.label} | ${fixed(row.encryptOps)} | ${fixed(row.encryptRatioToLocal, 2)} | ${fixed(row.decryptOps)} | ${fixed(row.decryptRatioToLocal, 2)} |`,
    ),
    "",
    `Burst: ${fixed(result.burst.requested)} encrypts at once against a limit of ${result.burst.rate}/s (burst ${result.burst.burst}), deadline ${fixed(result.burst.deadlineMs)} ms: the emulator saw ${fixed(result.burst.kmsCalls)} GenerateDataKey calls in ${fixed(result.burst.elapsedS, 2)} s (the bucket allows ${fixed(result.burst.allowed)}); outcomes ${Object.entries(
      result.burst.codes,
    )
      .map(([code, count]) => `${code} ${count}`)
      .join(", ")}; the slowest ended after ${fixed(result.burst.slowestMs)} ms.`,
    "",
    `(${fixed(result.seconds)} s)`,
  ];
  return lines.join("\n");
}

await main();
