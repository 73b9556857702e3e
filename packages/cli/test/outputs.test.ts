import { spawn, spawnSync } from "node:child_process";
import {
  lstatSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
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

let ws: Workspace;
let envelope: Buffer;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);

beforeAll(assertBuilt);
beforeEach(async () => {
  ws = await workspace("kms-envelope-out-");
  expect(cli(["keys", "create", "app"]).status).toBe(0);
  envelope = cli(["encrypt", "-k", "local://app"], { input: "the plaintext" }).stdout;
  writeFileSync(join(ws.dir, "e.kmse"), envelope);
});

describe("-o never replaces what is not a regular file", () => {
  it("/dev/null stays the character device", () => {
    const before = statSync("/dev/null");
    const result = cli(["decrypt", "-i", "e.kmse", "-o", "/dev/null"]);
    expect(result.status, result.stderr).toBe(0);
    const after = lstatSync("/dev/null");
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.rdev).toBe(before.rdev);
    expect(after.ino).toBe(before.ino);
  });

  it("a character device made with mknod in a temp dir is written in place, not replaced", (context) => {
    const made = spawnSync("mknod", [join(ws.dir, "null"), "c", "1", "3"]);
    if (made.status !== 0) {
      context.skip(`mknod needs root (CI runs as root): ${made.stderr.toString().trim()}`);
      return;
    }
    const before = lstatSync(join(ws.dir, "null"));
    const result = cli(["decrypt", "-i", "e.kmse", "-o", "null"]);
    expect(result.status, result.stderr).toBe(0);
    const after = lstatSync(join(ws.dir, "null"));
    expect(after.isCharacterDevice()).toBe(true);
    expect(after.ino).toBe(before.ino);
  });

  it("a block device made with mknod is refused (INVALID_ARGUMENT, status 2), neither written nor replaced", (context) => {
    const made = spawnSync("mknod", [join(ws.dir, "disk"), "b", "7", "200"]);
    if (made.status !== 0) {
      context.skip(`mknod needs root (CI runs as root): ${made.stderr.toString().trim()}`);
      return;
    }
    const before = lstatSync(join(ws.dir, "disk"));
    const result = cli(["decrypt", "-i", "e.kmse", "-o", "disk"]);
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    expect(result.stderr).toContain("disk is a block device: refusing to write to it");
    const after = lstatSync(join(ws.dir, "disk"));
    expect(after.isBlockDevice()).toBe(true);
    expect([after.ino, after.rdev]).toEqual([before.ino, before.rdev]);
    return expect(tempFiles(ws.dir)).resolves.toEqual([]);
  });

  it("a FIFO is written to as a stream and stays a FIFO", async () => {
    const fifo = join(ws.dir, "pipe");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const reader = spawn("cat", [fifo]);
    const chunks: Buffer[] = [];
    reader.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
    const writer = cliSpawn(ws, ["decrypt", "-i", "e.kmse", "-o", "pipe"], {
      stdio: ["ignore", "ignore", "pipe"],
    });
    const [status] = await Promise.all([exited(writer), exited(reader)]);
    expect(status.status).toBe(0);
    expect(Buffer.concat(chunks).toString()).toBe("the plaintext");
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });

  it("a Unix socket is connected to and written as a stream", async () => {
    const path = join(ws.dir, "sock");
    const received: Buffer[] = [];
    const server = createServer((socket) => socket.on("data", (chunk) => received.push(chunk)));
    await new Promise<void>((done) => server.listen(path, done));
    try {
      const writer = cliSpawn(ws, ["decrypt", "-i", "e.kmse", "-o", "sock"]);
      expect((await exited(writer)).status).toBe(0);
      await new Promise((done) => setTimeout(done, 50));
      expect(Buffer.concat(received).toString()).toBe("the plaintext");
      expect(lstatSync(path).isSocket()).toBe(true);
    } finally {
      server.close();
    }
  });

  it("a Unix socket whose reader goes away mid-stream: one IO_ERROR line (status 9), the socket stays", async () => {
    // Enough plaintext that the writer is still writing when the reader resets the connection.
    writeFileSync(join(ws.dir, "big.bin"), Buffer.alloc(32 * 1024 * 1024, 7));
    expect(cli(["encrypt", "-k", "local://app", "-i", "big.bin", "-o", "big.kmse"]).status).toBe(0);
    const path = join(ws.dir, "gone.sock");
    const server = createServer((socket) => socket.once("data", () => socket.destroy()));
    await new Promise<void>((done) => server.listen(path, done));
    try {
      const writer = cliSpawn(ws, ["decrypt", "-i", "big.kmse", "-o", "gone.sock"], {
        stdio: ["ignore", "ignore", "pipe"],
      });
      let stderr = "";
      writer.stderr!.on("data", (chunk) => {
        stderr += chunk;
      });
      expect((await exited(writer)).status).toBe(9);
      expect(stderr).toMatch(ONE_ERROR_LINE("IO_ERROR"));
      expect(stderr).toMatch(/cannot write \S*gone\.sock: E(PIPE|CONNRESET)/);
      expect(lstatSync(path).isSocket()).toBe(true);
      expect(await tempFiles(ws.dir)).toEqual([]);
    } finally {
      server.close();
    }
  });

  it("a symlink to a regular file: the target is replaced, the link stays a link", () => {
    writeFileSync(join(ws.dir, "real.txt"), "old contents");
    symlinkSync("real.txt", join(ws.dir, "link"));
    const result = cli(["decrypt", "-i", "e.kmse", "-o", "link"]);
    expect(result.status, result.stderr).toBe(0);
    expect(lstatSync(join(ws.dir, "link")).isSymbolicLink()).toBe(true);
    expect(readlinkSync(join(ws.dir, "link"))).toBe("real.txt");
    expect(readFileSync(join(ws.dir, "real.txt"), "utf8")).toBe("the plaintext");
    // Plaintext is private to its owner.
    expect(statSync(join(ws.dir, "real.txt")).mode & 0o777).toBe(0o600);
  });

  it("a symlink into another directory: the temp file is made beside the real target", () => {
    mkdirSync(join(ws.dir, "elsewhere"));
    writeFileSync(join(ws.dir, "elsewhere", "target"), "old");
    symlinkSync(join(ws.dir, "elsewhere", "target"), join(ws.dir, "far-link"));
    expect(cli(["decrypt", "-i", "e.kmse", "-o", "far-link"]).status).toBe(0);
    expect(readFileSync(join(ws.dir, "elsewhere", "target"), "utf8")).toBe("the plaintext");
    expect(lstatSync(join(ws.dir, "far-link")).isSymbolicLink()).toBe(true);
  });

  it("a directory, a dangling link and a missing directory are one-line errors, and nothing is created", async () => {
    mkdirSync(join(ws.dir, "adir"));
    symlinkSync("nowhere", join(ws.dir, "dangling"));
    const cases = [
      ["adir", "INVALID_ARGUMENT", 2],
      ["dangling", "INVALID_ARGUMENT", 2],
      ["no/such/dir/out", "IO_ERROR", 9],
    ] as const;
    for (const [target, code, status] of cases) {
      const result = cli(["decrypt", "-i", "e.kmse", "-o", target]);
      expect(result.status, target).toBe(status);
      expect(result.stderr).toMatch(ONE_ERROR_LINE(code));
    }
    expect(lstatSync(join(ws.dir, "dangling")).isSymbolicLink()).toBe(true);
    expect(await tempFiles(ws.dir)).toEqual([]);
  });

  it("-o naming the input file is refused unless --in-place; --in-place replaces it atomically", () => {
    writeFileSync(join(ws.dir, "doc.txt"), "document");
    const refused = cli(["encrypt", "-k", "local://app", "-i", "doc.txt", "-o", "./doc.txt"]);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("--in-place");
    expect(readFileSync(join(ws.dir, "doc.txt"), "utf8")).toBe("document");
    expect(cli(["encrypt", "-k", "local://app", "-i", "doc.txt", "--in-place"]).status).toBe(0);
    expect(readFileSync(join(ws.dir, "doc.txt")).subarray(0, 4).toString()).toBe("KMSE");
    expect(cli(["decrypt", "-i", "doc.txt", "--in-place"]).status).toBe(0);
    expect(readFileSync(join(ws.dir, "doc.txt"), "utf8")).toBe("document");
  });
});

describe("temp files", () => {
  it("stale temp files of a dead process are removed by the next run in that directory; live ones are kept", async () => {
    const dead = spawnSync(process.execPath, [
      "-e",
      "process.stdout.write(String(process.pid))",
    ]).stdout.toString();
    const stale = join(ws.dir, `.out.txt.${dead}.0123456789ab.kmse-tmp`);
    const alive = join(ws.dir, `.out.txt.${process.pid}.0123456789ab.kmse-tmp`);
    writeFileSync(stale, "partial plaintext");
    writeFileSync(alive, "someone else's work in progress");
    expect(cli(["decrypt", "-i", "e.kmse", "-o", "out.txt"]).status).toBe(0);
    expect(await tempFiles(ws.dir)).toEqual([`.out.txt.${process.pid}.0123456789ab.kmse-tmp`]);
  });
});
