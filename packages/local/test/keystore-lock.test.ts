import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  existsSync,
  linkSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { inspectLock, removeIfUnchanged, withFileLock } from "../src/file-lock.js";
import { openKeystore } from "../src/index.js";

function tempPath() {
  return join(mkdtempSync(join(tmpdir(), "kms-envelope-lock-")), "keystore.json");
}

/** A pid that belonged to a process which has exited. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ["-e", ""]);
  return child.pid;
}

/** Plants `content` at `lockPath` only if no lock is there, as a writer that died holding it would have. */
function plantLock(lockPath: string, content: string, ageMs = 0): boolean {
  const temporary = `${lockPath}.${randomBytes(8).toString("hex")}.plant`;
  writeFileSync(temporary, content);
  const then = new Date(Date.now() - ageMs);
  utimesSync(temporary, then, then);
  try {
    linkSync(temporary, lockPath);
    return true;
  } catch {
    return false;
  } finally {
    unlinkSync(temporary);
  }
}

const deadRecord = (pid: number) =>
  JSON.stringify({ pid, host: hostname(), nonce: randomBytes(16).toString("hex"), time: Date.now() });

function codeOf(action: () => unknown): string {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return (error as EnvelopeError).code;
  }
  throw new Error("expected a failure");
}

describe("keystore lock", () => {
  it("a waiter that judged a lock stale never removes the lock another process took over since", () => {
    const path = tempPath();
    const lockPath = `${path}.lock`;
    expect(plantLock(lockPath, deadRecord(deadPid()))).toBe(true);
    const judged = inspectLock(lockPath);
    expect(judged?.stale).toBe(true);
    // Another waiter takes the stale lock over and is now inside…
    withFileLock(path, () => {
      const ours = inspectLock(lockPath);
      expect(ours?.stale).toBe(false);
      // …when the first waiter acts on what it judged: it must not remove the new lock.
      expect(removeIfUnchanged(lockPath, judged!.identity)).toBe(false);
      expect(inspectLock(lockPath)?.identity).toBe(ours?.identity);
    });
    expect(existsSync(lockPath)).toBe(false);
  });

  it("an empty or unparsable lock file is stale once it is older than the unreadable-lock age, not before", () => {
    const path = tempPath();
    const keystore = openKeystore({ path, lock: { timeoutMs: 300 } });
    keystore.create("alpha");
    const lockPath = `${path}.lock`;
    expect(plantLock(lockPath, "")).toBe(true);
    expect(codeOf(() => keystore.rotate("alpha"))).toBe("KEYSTORE_ERROR");
    unlinkSync(lockPath);
    expect(plantLock(lockPath, "", 6_000)).toBe(true);
    expect(keystore.rotate("alpha").primaryVersion).toBe(3 - 1);
    expect(plantLock(lockPath, "12345 garb", 6_000)).toBe(true);
    expect(keystore.rotate("alpha").primaryVersion).toBe(3);
    expect(existsSync(lockPath)).toBe(false);
  });

  it("a lock whose process is gone is taken over at once; a live holder's lock is waited for", () => {
    const path = tempPath();
    const keystore = openKeystore({ path, lock: { timeoutMs: 300 } });
    keystore.create("alpha");
    const lockPath = `${path}.lock`;
    expect(plantLock(lockPath, deadRecord(deadPid()))).toBe(true);
    expect(keystore.rotate("alpha").primaryVersion).toBe(2);
    expect(plantLock(lockPath, deadRecord(process.pid))).toBe(true);
    expect(codeOf(() => keystore.rotate("alpha"))).toBe("KEYSTORE_ERROR");
    unlinkSync(lockPath);
    expect(readdirSync(join(path, "..")).filter((name) => /\.(lock|claim|tmp|plant)$/.test(name))).toEqual(
      [],
    );
  });

  it("6 writer processes × 150 rotations with dead-pid and unreadable locks planted: no version lost or reused", async () => {
    const path = tempPath();
    const lockPath = `${path}.lock`;
    openKeystore({ path }).create("shared");
    const moduleUrl = new URL("../dist/index.js", import.meta.url).href;
    const writer = new URL("./fixtures/keystore-writer.mjs", import.meta.url).pathname;
    const processes = 6;
    const rotations = 150;
    const dead = deadPid();
    let planted = 0;
    const planter = setInterval(() => {
      const content = planted % 4 === 3 ? "" : deadRecord(dead);
      if (plantLock(lockPath, content, content === "" ? 6_000 : 0)) planted++;
    }, 3);
    const run = () =>
      new Promise<number[]>((resolve, reject) => {
        const child = spawn(process.execPath, [writer, moduleUrl, path, "shared", String(rotations)], {
          stdio: ["ignore", "pipe", "inherit"],
        });
        let out = "";
        child.stdout.on("data", (chunk) => {
          out += chunk;
        });
        child.on("exit", (code) =>
          code === 0 ? resolve(JSON.parse(out) as number[]) : reject(new Error(`writer exited ${code}`)),
        );
      });
    let results: number[][];
    try {
      results = await Promise.all(Array.from({ length: processes }, run));
    } finally {
      clearInterval(planter);
    }
    expect(planted).toBeGreaterThan(10);
    const given = results.flat().sort((a, b) => a - b);
    const expected = Array.from({ length: processes * rotations }, (_, index) => index + 2);
    expect(given).toEqual(expected); // each rotation got its own version: none reused
    const stored = JSON.parse(readFileSync(path, "utf8")).keys.shared as {
      primaryVersion: number;
      versions: { version: number; material: string }[];
    };
    expect(stored.versions.map((version) => version.version)).toEqual([1, ...expected]); // none lost
    expect(new Set(stored.versions.map((version) => version.material)).size).toBe(stored.versions.length);
    expect(stored.primaryVersion).toBe(1 + processes * rotations);
    const rotated = openKeystore({ path })
      .audit()
      .filter((record) => record.operation === "rotate")
      .map((record) => record.version);
    expect(rotated).toEqual(expected); // the log's order is the file's order
    console.log(
      `lock race: ${processes} writers × ${rotations} rotations, ${planted} stale locks planted, 0 versions lost or reused`,
    );
  }, 180_000);
});
