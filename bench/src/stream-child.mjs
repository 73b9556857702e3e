/**
 * One streaming run in a fresh process, so peak RSS is this run's alone.
 *   node stream-child.mjs prepare <raw|kms-envelope> <MiB> <file>   encrypt into a file (untimed)
 *   node stream-child.mjs encrypt <raw|kms-envelope> <MiB>          generated plaintext → encrypt → discard
 *   node stream-child.mjs decrypt <raw|kms-envelope> <file>         file → decrypt → discard
 * The plaintext is one random MiB repeated (the source allocates nothing);
 * the decrypt input is read from the page cache in 256 KiB chunks, the same
 * way for both contenders. Prints one JSON line: MB/s of CPU time (see
 * measure.mjs) and peak RSS growth over the RSS before the pipeline.
 */
import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { createReadStream, createWriteStream, readFileSync, writeFileSync } from "node:fs";
import { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { createKeyring, decryptStream, encryptStream } from "@kms-envelope/core";
import { createLocalKek } from "@kms-envelope/local";
import { baselineCore } from "./baseline.mjs";

const [mode, contender, argument, prepareFile] = process.argv.slice(2);
/** `prepare` writes this file; `decrypt` reads it. */
const file = mode === "decrypt" ? argument : prepareFile;
const CHUNK = 64 * 1024;
const READ_CHUNK = 256 * 1024;
// Fixed key material: `prepare` and `decrypt` run in different processes.
const key = Buffer.alloc(32, 7);
const iv = Buffer.alloc(12, 9);
// "baseline": the same over another build of core (BENCH_BASELINE, see baseline.mjs).
const core = contender === "baseline" ? baselineCore : { createKeyring, decryptStream, encryptStream };
const keyring = core.createKeyring({ primary: createLocalKek({ key, keyId: "bench" }) });

function plaintextSource(total) {
  const block = randomBytes(1024 * 1024);
  return Readable.from(
    (function* () {
      for (let at = 0; at < total; at += CHUNK)
        yield block.subarray(at % block.length, (at % block.length) + CHUNK);
    })(),
    { objectMode: false, highWaterMark: CHUNK },
  );
}

function encryptor() {
  return contender === "raw" ? createCipheriv("aes-256-gcm", key, iv) : core.encryptStream({ keyring });
}

function decryptor() {
  if (contender !== "raw") return core.decryptStream({ keyring });
  const decipher = createDecipheriv("aes-256-gcm", key, iv);
  decipher.setAuthTag(readFileSync(`${file}.tag`));
  return decipher;
}

/**
 * This process's peak RSS. `resourceUsage().maxRSS` will not do: Linux
 * starts a spawned child's maxrss at its parent's RSS at fork time (the
 * bench's main process holds hundreds of MiB), so it would report the
 * parent. VmHWM is the high-water mark of this process's own memory map.
 */
function peakRss() {
  const match = /^VmHWM:\s+(\d+) kB$/m.exec(readFileSync("/proc/self/status", "utf8"));
  return match ? Number(match[1]) * 1024 : process.resourceUsage().maxRSS * 1024;
}

const counter = { bytes: 0 };
const sink = new Writable({
  highWaterMark: CHUNK,
  write(chunk, _encoding, callback) {
    counter.bytes += chunk.length;
    callback();
  },
});

if (mode === "prepare") {
  const stage = encryptor();
  await pipeline(plaintextSource(Number(argument) * 2 ** 20), stage, createWriteStream(file));
  if (contender === "raw") writeFileSync(`${file}.tag`, stage.getAuthTag());
} else {
  const [source, stage] =
    mode === "encrypt"
      ? [plaintextSource(Number(argument) * 2 ** 20), encryptor()]
      : [createReadStream(file, { highWaterMark: READ_CHUNK }), decryptor()];
  globalThis.gc?.();
  const baseline = process.memoryUsage().rss;
  // CPU time of this process (see measure.mjs): the machine is shared.
  const cpuBefore = process.cpuUsage();
  await pipeline(source, stage, sink);
  const cpu = process.cpuUsage(cpuBefore);
  const peak = peakRss();
  console.log(
    JSON.stringify({
      mode,
      contender,
      plaintextBytes: counter.bytes,
      mbPerSecond: counter.bytes / 1e6 / ((cpu.user + cpu.system) / 1e6),
      peakRssGrowthMiB: Math.max(0, peak - baseline) / 2 ** 20,
    }),
  );
}
