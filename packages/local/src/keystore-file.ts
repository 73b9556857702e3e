import { randomBytes } from "node:crypto";
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  renameSync,
  statSync,
  unlinkSync,
  writeFileSync,
} from "node:fs";
import { basename, dirname, join } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";
import { processAlive } from "./file-lock.js";

/**
 * A reader never sees a partial keystore file: write a temp file, fsync, rename
 * over. Writers are serialised by `withFileLock` (file-lock.ts).
 * Replaces `path` atomically with `content`, readable by the owner only.
 */
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

/**
 * Removes temp files that writers killed mid-write left beside `path` (a
 * keystore temp holds key material): `<name>.….<pid>.<hex>.tmp` whose process
 * is gone. Called under the lock, so no live writer of ours is mid-rename.
 */
export function removeOrphanedTemporaries(path: string): number {
  const prefix = `${basename(path)}.`;
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(dirname(path));
  } catch {
    return 0;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const match = /\.(\d+)\.[0-9a-f]+\.tmp$/.exec(name);
    if (match === null || processAlive(Number(match[1]))) continue;
    try {
      unlinkSync(join(dirname(path), name));
      removed++;
    } catch {
      // Another writer swept it first.
    }
  }
  return removed;
}
