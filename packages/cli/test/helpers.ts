import { type SpawnOptions, spawn, spawnSync } from "node:child_process";
import { statSync } from "node:fs";
import { mkdtemp, readdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

/** The built binary: every test runs it as its own process, as a user would. */
export const BIN = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
const SOURCE = fileURLToPath(new URL("../src", import.meta.url));

/** Fails loudly when dist is missing or older than the sources (a stale build would test old code). */
export function assertBuilt(): void {
  if (statSync(BIN, { throwIfNoEntry: false }) === undefined) {
    throw new Error("packages/cli/dist is missing: run `pnpm --filter @kms-envelope/cli build`");
  }
  const newest = (dir: string) =>
    Number(
      spawnSync("find", [dir, "-type", "f", "-printf", "%T@\\n"], { encoding: "utf8" })
        .stdout.split("\n")
        .filter(Boolean)
        .map(Number)
        .sort((a, b) => b - a)[0] ?? 0,
    );
  if (newest(SOURCE) > newest(join(SOURCE, "..", "dist"))) {
    throw new Error("packages/cli/dist is older than src: run `pnpm --filter @kms-envelope/cli build`");
  }
}

export interface Workspace {
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
}

export async function workspace(prefix = "kms-envelope-cli-"): Promise<Workspace> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return {
    dir,
    env: { PATH: process.env.PATH, HOME: dir, KMS_ENVELOPE_KEYSTORE: join(dir, "keystore.json") },
  };
}

export interface Result {
  readonly status: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

export function cliSync(
  ws: Workspace,
  args: readonly string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {},
): Result {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    input: options.input ?? "",
    env: { ...ws.env, ...options.env },
    cwd: ws.dir,
    maxBuffer: 256 * 1024 * 1024,
    timeout: 120_000,
  });
  return {
    status: result.status,
    signal: result.signal,
    stdout: result.stdout,
    stderr: result.stderr.toString(),
  };
}

/** Starts the binary without waiting; for signals, FIFOs and pipes. */
export function cliSpawn(ws: Workspace, args: readonly string[], options: SpawnOptions = {}) {
  return spawn(process.execPath, [BIN, ...args], { cwd: ws.dir, env: ws.env, ...options });
}

export function exited(
  child: ReturnType<typeof spawn>,
): Promise<{ status: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((done) => child.once("close", (status, signal) => done({ status, signal })));
}

/** Runs a shell line (pipes, redirections) with the binary as $CLI. */
export function sh(ws: Workspace, line: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync("bash", ["-c", line], {
    cwd: ws.dir,
    env: { ...ws.env, CLI: `${process.execPath} ${BIN}`, ...env },
    encoding: "buffer",
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

export async function tempFiles(dir: string): Promise<string[]> {
  return (await readdir(dir)).filter((name) => name.endsWith(".kmse-tmp"));
}

/** One error line with the code, nothing else (no stack trace). */
export const ONE_ERROR_LINE = (code: string) => new RegExp(`^kms-envelope: error ${code}: [^\\n]+\\n$`);

/**
 * `cliSync` without blocking the test's event loop: needed when the test
 * process itself serves the command (an emulator started in the test).
 */
export function cliAsync(
  ws: Workspace,
  args: readonly string[],
  options: { input?: string | Buffer; env?: NodeJS.ProcessEnv; bin?: string } = {},
): Promise<Result> {
  const child = spawn(process.execPath, [options.bin ?? BIN, ...args], {
    cwd: ws.dir,
    env: { ...ws.env, ...options.env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => out.push(chunk));
  child.stderr.on("data", (chunk: Buffer) => err.push(chunk));
  child.stdin.on("error", () => {});
  child.stdin.end(options.input ?? "");
  return new Promise((done) =>
    child.once("close", (status, signal) =>
      done({ status, signal, stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString() }),
    ),
  );
}
