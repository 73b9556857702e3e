import { createHash } from "node:crypto";
import { closeSync, ftruncateSync, openSync, statSync, writeSync } from "node:fs";
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { assertBuilt, cliSpawn, cliSync, exited, type Workspace, workspace } from "./helpers.js";

const SIZE = 2 * 1024 ** 3 + 3 * 1024 * 1024 + 7; // over 2 GiB, not a whole number of frames
let ws: Workspace;

beforeAll(async () => {
  assertBuilt();
  ws = await workspace("kms-envelope-large-");
  expect(cliSync(ws, ["keys", "create", "app"]).status).toBe(0);
  // Sparse: zeros everywhere but a marker at the start and at the end.
  const fd = openSync(join(ws.dir, "huge.bin"), "w");
  ftruncateSync(fd, SIZE);
  writeSync(fd, Buffer.from("start"), 0, 5, 0);
  writeSync(fd, Buffer.from("end"), 0, 3, SIZE - 3);
  closeSync(fd);
});
afterAll(async () => {
  if (ws !== undefined) await rm(ws.dir, { recursive: true, force: true });
});

function expectedDigest(): string {
  const hash = createHash("sha256");
  const zeros = Buffer.alloc(64 * 1024 * 1024);
  hash.update("start");
  let left = SIZE - 8;
  while (left > 0) {
    const n = Math.min(left, zeros.length);
    hash.update(zeros.subarray(0, n));
    left -= n;
  }
  hash.update("end");
  return hash.digest("hex");
}

it("a file over 2 GiB goes through encrypt (file to file) and decrypt (file to a pipe)", {
  timeout: 300_000,
}, async () => {
  const encrypted = cliSync(ws, [
    "encrypt",
    "-k",
    "local://app",
    "-i",
    "huge.bin",
    "-o",
    "huge.kmse",
    "--json",
  ]);
  expect(encrypted.status, encrypted.stderr).toBe(0);
  expect(JSON.parse(encrypted.stdout.toString()).plaintextBytes).toBe(SIZE);
  expect(statSync(join(ws.dir, "huge.kmse")).size).toBeGreaterThan(SIZE);
  await rm(join(ws.dir, "huge.bin"));

  const child = cliSpawn(ws, ["decrypt", "-i", "huge.kmse"], { stdio: ["ignore", "pipe", "pipe"] });
  const hash = createHash("sha256");
  let bytes = 0;
  child.stdout!.on("data", (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  const { status } = await exited(child);
  expect(status, stderr).toBe(0);
  expect(bytes).toBe(SIZE);
  expect(hash.digest("hex")).toBe(expectedDigest());
});
