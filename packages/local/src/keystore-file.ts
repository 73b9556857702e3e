import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readFileSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { dirname } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";

/**
 * The keystore file's two safety properties: a reader never sees a partial
 * file (write to a temp file, fsync, rename over), and two writers never
 * interleave (an exclusive lock file, created with O_EXCL, held around every
 * read-modify-write). A lock left by a dead process is taken over.
 */
const LOCK_TIMEOUT_MS = 10_000;
const STALE_LOCK_MS = 30_000;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockIsStale(lockPath: string): boolean {
  try {
    const [pid, time] = readFileSync(lockPath, "utf8").split(" ").map(Number);
    if (pid !== undefined && Number.isInteger(pid) && pid > 0 && !processAlive(pid)) return true;
    return time !== undefined && Number.isFinite(time) && Date.now() - time > STALE_LOCK_MS;
  } catch {
    return false;
  }
}

export function withFileLock<T>(path: string, action: () => T): T {
  const lockPath = `${path}.lock`;
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const deadline = Date.now() + LOCK_TIMEOUT_MS;
  let descriptor: number | undefined;
  for (let attempt = 0; descriptor === undefined; attempt++) {
    try {
      descriptor = openSync(lockPath, "wx", 0o600);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") {
        throw new EnvelopeError("KEYSTORE_ERROR", `keystore: cannot create lock file ${lockPath}`, {
          cause: error,
        });
      }
      if (lockIsStale(lockPath)) {
        try {
          unlinkSync(lockPath);
        } catch {
          // Another process took it over first; try again.
        }
        continue;
      }
      if (Date.now() > deadline) {
        throw new EnvelopeError("KEYSTORE_ERROR", `keystore: timed out waiting for the lock ${lockPath}`);
      }
      sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 5);
    }
  }
  try {
    writeSync(descriptor, `${process.pid} ${Date.now()}`);
    closeSync(descriptor);
    return action();
  } finally {
    try {
      unlinkSync(lockPath);
    } catch {
      // Already gone: nothing to release.
    }
  }
}

/** Replaces `path` atomically with `content`, readable by the owner only. */
export function writeFileAtomic(path: string, content: string): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  try {
    const descriptor = openSync(temporary, "wx", 0o600);
    try {
      writeFileSync(descriptor, content);
      fsyncSync(descriptor);
    } finally {
      closeSync(descriptor);
    }
    renameSync(temporary, path);
  } catch (error) {
    try {
      unlinkSync(temporary);
    } catch {
      // The temp file was never created or is already renamed.
    }
    throw new EnvelopeError("KEYSTORE_ERROR", `keystore: cannot write ${path}`, { cause: error });
  }
}

/** A cheap fingerprint to tell whether the file changed since it was last read. */
export function fileVersion(path: string): string | undefined {
  try {
    const stat = statSync(path, { bigint: true });
    return `${stat.ino}:${stat.size}:${stat.mtimeNs}`;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw new EnvelopeError("KEYSTORE_ERROR", `keystore: cannot read ${path}`, { cause: error });
  }
}
