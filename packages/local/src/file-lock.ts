import { createHash, randomBytes } from "node:crypto";
import {
  closeSync,
  fstatSync,
  linkSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { hostname } from "node:os";
import { basename, dirname, join } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";

/**
 * An inter-process lock file whose stale-lock takeover is single-winner.
 *
 * Why not a lock library: proper-lockfile (and npm's lockfile) reclaim a stale
 * lock by "remove, then create": a waiter that judged the old lock stale can
 * remove the lock another waiter has just created, and both proceed (issue #10,
 * defect 3: 6 writers lost 5 rotations that way).
 *
 * The rules here:
 * - A lock file is created whole: its record is written to a private temp file
 *   and hard-linked into place (`link` fails if the name exists), so our locks
 *   are never empty.
 * - Each lock file has an identity: the random nonce in its record, or, for a
 *   file that does not parse (a writer killed between creating and writing it),
 *   its inode, size and mtime.
 * - A lock file is only ever removed by a process that first created, with the
 *   same exclusive link, the claim `<lock>.<hash of identity>.claim`, and then
 *   re-read the lock and found that same identity. Two waiters that judged the
 *   same lock stale race on the claim; one wins. A late waiter that claims an
 *   identity already gone re-reads, sees a different lock and removes nothing.
 *   The holder releases its own lock the same way.
 * - Stale means: the record's process is gone (same host), or the record is
 *   older than the lease (another host, or a process that stalled), or the file
 *   does not parse and its mtime is older than `unreadableStaleMs`.
 *   Claims are lock files too and go stale by the same rules.
 */
export interface FileLockOptions {
  /** Give up waiting after this long (`KEYSTORE_ERROR`). */
  timeoutMs?: number | undefined;
  /** A lock whose record is older than this is stale even if its process looks alive. */
  leaseMs?: number | undefined;
  /** An empty or unparsable lock file older than this is stale. */
  unreadableStaleMs?: number | undefined;
}

export interface LockRecord {
  readonly pid: number;
  readonly host: string;
  readonly nonce: string;
  readonly time: number;
}

interface LockState {
  readonly identity: string;
  readonly stale: boolean;
}

const DEFAULTS = { timeoutMs: 10_000, leaseMs: 30_000, unreadableStaleMs: 5_000 };
const MAX_CLAIM_DEPTH = 4;
const sleeper = new Int32Array(new SharedArrayBuffer(4));

function sleep(ms: number): void {
  Atomics.wait(sleeper, 0, 0, ms);
}

function errnoOf(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

export function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoOf(error) === "EPERM";
  }
}

function newRecord(): LockRecord {
  return { pid: process.pid, host: hostname(), nonce: randomBytes(16).toString("hex"), time: Date.now() };
}

function parseRecord(text: string): LockRecord | undefined {
  try {
    const value = JSON.parse(text) as Partial<LockRecord>;
    if (
      Number.isInteger(value.pid) &&
      typeof value.host === "string" &&
      typeof value.nonce === "string" &&
      /^[0-9a-f]{32}$/.test(value.nonce) &&
      Number.isFinite(value.time)
    ) {
      return value as LockRecord;
    }
  } catch {
    // Not a record: judged by its age below.
  }
  return undefined;
}

/** Creates `path` holding `record`, or returns false if it exists. Never leaves a partial file at `path`. */
function createExclusive(path: string, record: LockRecord): boolean {
  const temporary = `${path}.${process.pid}.${record.nonce}.tmp`;
  writeFileSync(temporary, JSON.stringify(record), { flag: "wx", mode: 0o600 });
  try {
    linkSync(temporary, path);
    return true;
  } catch (error) {
    if (errnoOf(error) === "EEXIST") return false;
    throw error;
  } finally {
    unlinkSync(temporary);
  }
}

/** The lock at `path` now: its identity and whether it is stale; undefined when there is none. */
export function inspectLock(path: string, settings: typeof DEFAULTS = DEFAULTS): LockState | undefined {
  let descriptor: number;
  try {
    descriptor = openSync(path, "r");
  } catch (error) {
    if (errnoOf(error) === "ENOENT") return undefined;
    throw error;
  }
  try {
    const stat = fstatSync(descriptor, { bigint: true });
    const record = parseRecord(readFileSync(descriptor, "utf8"));
    const now = Date.now();
    if (record === undefined) {
      return {
        identity: `file:${stat.dev}:${stat.ino}:${stat.size}:${stat.mtimeNs}`,
        stale: now - Number(stat.mtimeMs) > settings.unreadableStaleMs,
      };
    }
    const expired = now - record.time > settings.leaseMs;
    const gone = record.host === hostname() && !processAlive(record.pid);
    return { identity: `record:${record.nonce}`, stale: expired || gone };
  } finally {
    closeSync(descriptor);
  }
}

function claimPath(path: string, identity: string): string {
  return `${path}.${createHash("sha256").update(identity).digest("hex").slice(0, 16)}.claim`;
}

/**
 * Removes `path` if it still is the lock `identity`; returns whether it did.
 * Only the process holding `identity`'s claim removes it, so the removal can
 * never hit a lock created after `identity` was judged.
 */
export function removeIfUnchanged(
  path: string,
  identity: string,
  settings: typeof DEFAULTS = DEFAULTS,
  depth = 0,
): boolean {
  const claim = claimPath(path, identity);
  const record = newRecord();
  if (!createExclusive(claim, record)) {
    // Someone else is removing it. If that someone died mid-removal, clear its claim the same way.
    const other = inspectLock(claim, settings);
    if (other?.stale && depth < MAX_CLAIM_DEPTH)
      removeIfUnchanged(claim, other.identity, settings, depth + 1);
    return false;
  }
  try {
    if (inspectLock(path, settings)?.identity !== identity) return false;
    unlinkSync(path);
    return true;
  } finally {
    releaseClaim(claim, record);
  }
}

/** Our own claim: no one else removes a live, fresh claim, and a late claimant re-checks the lock anyway. */
function releaseClaim(claim: string, record: LockRecord): void {
  try {
    if (parseRecord(readFileSync(claim, "utf8"))?.nonce === record.nonce) unlinkSync(claim);
  } catch {
    // Already gone.
  }
}

/**
 * Claims outlive their lock when a claimant is killed between removing the lock
 * and removing its claim. They block nothing (that lock is gone), but they are
 * clutter: remove the stale ones, through the same claim-checked removal.
 */
function sweepStaleClaims(lockPath: string, settings: typeof DEFAULTS): void {
  const prefix = `${basename(lockPath)}.`;
  let names: string[];
  try {
    names = readdirSync(dirname(lockPath));
  } catch {
    return;
  }
  for (const name of names) {
    if (!name.startsWith(prefix) || !/^[0-9a-f]{16}\.claim$/.test(name.slice(prefix.length))) continue;
    const claim = join(dirname(lockPath), name);
    try {
      const state = inspectLock(claim, settings);
      if (state?.stale) removeIfUnchanged(claim, state.identity, settings);
    } catch {
      // Swept by another writer, or unreadable: left for the next sweep.
    }
  }
}

export interface HeldLock {
  /** Throws `KEYSTORE_ERROR` unless the lock is still ours (called right before committing a write). */
  assertHeld(): void;
}

/** Runs `action` while holding `<path>.lock`. */
export function withFileLock<T>(
  path: string,
  action: (lock: HeldLock) => T,
  options: FileLockOptions = {},
): T {
  const settings = {
    timeoutMs: options.timeoutMs ?? DEFAULTS.timeoutMs,
    leaseMs: options.leaseMs ?? DEFAULTS.leaseMs,
    unreadableStaleMs: options.unreadableStaleMs ?? DEFAULTS.unreadableStaleMs,
  };
  const lockPath = `${path}.lock`;
  const record = newRecord();
  const identity = `record:${record.nonce}`;
  const deadline = Date.now() + settings.timeoutMs;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
    for (let attempt = 0; !createExclusive(lockPath, record); attempt++) {
      const current = inspectLock(lockPath, settings);
      // A stale lock we removed: try again at once. One someone else is removing (or gone): wait as usual.
      if (current?.stale && removeIfUnchanged(lockPath, current.identity, settings)) continue;
      if (Date.now() > deadline) {
        throw new EnvelopeError("KEYSTORE_ERROR", `keystore: timed out waiting for the lock ${lockPath}`);
      }
      if (current !== undefined) sleep(Math.min(50, 2 + attempt * 2) + Math.random() * 5);
    }
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError(
      "KEYSTORE_ERROR",
      `keystore: cannot take the lock ${lockPath} (${errnoOf(error)})`,
    );
  }
  sweepStaleClaims(lockPath, settings);
  const held: HeldLock = {
    assertHeld() {
      if (inspectLock(lockPath, settings)?.identity !== identity) {
        throw new EnvelopeError(
          "KEYSTORE_ERROR",
          `keystore: lost the lock ${lockPath} (held past its lease)`,
        );
      }
    },
  };
  try {
    return action(held);
  } finally {
    try {
      removeIfUnchanged(lockPath, identity, settings);
    } catch {
      // Releasing failed (the directory went away): a later waiter treats the lock as stale.
    }
  }
}
