import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "@kms-envelope/core";
import { beforeAll, describe, expect, it } from "vitest";
import {
  assertBuilt,
  cliSpawn,
  cliSync,
  exited,
  ONE_ERROR_LINE,
  tempFiles,
  type Workspace,
  workspace,
} from "./helpers.js";

const MiB = 1024 * 1024;
let ws: Workspace;
let plaintext: Buffer;
let envelope: Buffer;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);
const sha = (data: Uint8Array) => createHash("sha256").update(data).digest("hex");
const sleep = (ms: number) => new Promise((done) => setTimeout(done, ms));

beforeAll(async () => {
  assertBuilt();
  ws = await workspace("kms-envelope-signals-");
  expect(cli(["keys", "create", "app"]).status).toBe(0);
  expect(cli(["keys", "create", "next"]).status).toBe(0);
  plaintext = randomBytes(64 * MiB);
  writeFileSync(join(ws.dir, "plain.bin"), plaintext);
  expect(cli(["encrypt", "-k", "local://app", "-i", "plain.bin", "-o", "env.kmse"]).status).toBe(0);
  envelope = readFileSync(join(ws.dir, "env.kmse"));
  // Three CLI processes and a fsynced 64 MiB encrypt: past vitest's 10 s hook default when CI runs every package at once.
}, 60_000);

async function waitForTemp(dir: string, timeoutMs = 10_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if ((await tempFiles(dir)).length > 0) return;
    await sleep(10);
  }
  throw new Error("no temp file appeared");
}

describe("signals mid-stream", () => {
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    it(`${signal} during a decrypt to a file: status 7 (ABORTED), temp file gone, no output`, async () => {
      const child = cliSpawn(ws, ["decrypt", "-o", `out-${signal}.bin`], { stdio: ["pipe", "pipe", "pipe"] });
      child.stdin!.on("error", () => {});
      let stderr = "";
      child.stderr!.on("data", (chunk) => {
        stderr += chunk;
      });
      // Half the envelope, then the input stalls: the command is mid-stream with plaintext in its temp file.
      child.stdin!.write(envelope.subarray(0, envelope.length / 2));
      await waitForTemp(ws.dir);
      child.kill(signal);
      const { status } = await exited(child);
      child.stdin!.destroy();
      expect(status).toBe(7);
      expect(stderr).toMatch(ONE_ERROR_LINE("ABORTED"));
      expect(await tempFiles(ws.dir)).toEqual([]);
      expect(existsSync(join(ws.dir, `out-${signal}.bin`))).toBe(false);
    });
  }

  it("a second signal while the first is being handled: still status 7, no temp file, no output", async () => {
    const child = cliSpawn(ws, ["decrypt", "-o", "out-twice.bin"], { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin!.on("error", () => {});
    child.stdin!.write(envelope.subarray(0, envelope.length / 2));
    await waitForTemp(ws.dir);
    // Back to back: the second arrives before the first's cleanup (async unlink, error report) is done.
    child.kill("SIGINT");
    child.kill("SIGTERM");
    const { status, signal } = await exited(child);
    child.stdin!.destroy();
    expect([status, signal]).toEqual([7, null]);
    expect(await tempFiles(ws.dir)).toEqual([]);
    expect(existsSync(join(ws.dir, "out-twice.bin"))).toBe(false);
  });

  it("SIGINT during an encrypt leaves nothing either", async () => {
    const child = cliSpawn(ws, ["encrypt", "-k", "local://app", "-o", "enc-int.kmse"], {
      stdio: ["pipe", "pipe", "pipe"],
    });
    child.stdin!.on("error", () => {});
    child.stdin!.write(plaintext.subarray(0, 8 * MiB));
    await waitForTemp(ws.dir);
    child.kill("SIGINT");
    expect((await exited(child)).status).toBe(7);
    child.stdin!.destroy();
    expect(await tempFiles(ws.dir)).toEqual([]);
    expect(existsSync(join(ws.dir, "enc-int.kmse"))).toBe(false);
  });
});

/**
 * kill -9 cannot be caught. At every instant the target holds either nothing
 * (or its previous complete contents) or the complete new output, and the
 * next run in the directory removes the temp files the killed runs left.
 */
describe("kill -9 at random moments (20 runs each, 64 MiB)", { timeout: 180_000 }, () => {
  const RUNS = 20;

  async function killLoop(args: string[], check: () => void): Promise<number> {
    const started = Date.now();
    const warm = cliSpawn(ws, args, { stdio: "ignore" });
    expect((await exited(warm)).status).toBe(0);
    const duration = Date.now() - started;
    check();
    let leftBehind = 0;
    for (let run = 0; run < RUNS; run++) {
      const child = cliSpawn(ws, args, { stdio: "ignore" });
      const done = exited(child);
      await sleep(Math.random() * duration * 1.1);
      child.kill("SIGKILL");
      await done;
      check();
      if ((await tempFiles(ws.dir)).length > 0) leftBehind++;
    }
    return leftBehind;
  }

  it("encrypt -o: the target is absent or a complete envelope; stale temps cleaned by the next run", async () => {
    const target = join(ws.dir, "k-enc.kmse");
    let expectedLength: number | undefined;
    const leftBehind = await killLoop(
      ["encrypt", "-k", "local://app", "-i", "plain.bin", "-o", "k-enc.kmse"],
      () => {
        if (!existsSync(target)) return;
        const bytes = readFileSync(target);
        expectedLength ??= bytes.length;
        expect(bytes.length).toBe(expectedLength);
        expect(inspect(bytes).wrappedKeys[0]?.keyId).toBe("app");
      },
    );
    expect(leftBehind).toBeGreaterThan(0);
    expect(cli(["encrypt", "-k", "local://app", "-i", "plain.bin", "-o", "k-enc.kmse"]).status).toBe(0);
    expect(await tempFiles(ws.dir)).toEqual([]);
  });

  it("decrypt -o: the target is absent or the whole plaintext, never a prefix", async () => {
    const target = join(ws.dir, "k-dec.bin");
    const expected = sha(plaintext);
    const leftBehind = await killLoop(["decrypt", "-i", "env.kmse", "-o", "k-dec.bin"], () => {
      if (existsSync(target)) expect(sha(readFileSync(target))).toBe(expected);
    });
    expect(leftBehind).toBeGreaterThan(0);
    expect(cli(["decrypt", "-i", "env.kmse", "-o", "k-dec.bin"]).status).toBe(0);
    expect(await tempFiles(ws.dir)).toEqual([]);
  });

  it("rewrap --in-place: the file is a complete envelope with the original body at every kill", async () => {
    writeFileSync(join(ws.dir, "k-rw.kmse"), envelope);
    const body = sha(envelope.subarray(inspect(envelope).headerLength));
    const leftBehind = await killLoop(["rewrap", "--to", "local://next", "--in-place", "k-rw.kmse"], () => {
      const bytes = readFileSync(join(ws.dir, "k-rw.kmse"));
      const info = inspect(bytes);
      expect(sha(bytes.subarray(info.headerLength))).toBe(body);
      expect(info.wrappedKeys.map((k) => k.keyId)).toContain("app");
    });
    expect(leftBehind).toBeGreaterThan(0);
    expect(cli(["rewrap", "--to", "local://next", "--in-place", "k-rw.kmse"]).status).toBe(0);
    expect(await tempFiles(ws.dir)).toEqual([]);
    const decrypted = cli(["decrypt", "-k", "local://next", "-i", "k-rw.kmse", "-o", "rw.bin"]);
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(sha(readFileSync(join(ws.dir, "rw.bin")))).toBe(sha(plaintext));
  });
});
