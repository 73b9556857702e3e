import { randomBytes } from "node:crypto";
import { lstatSync, readdirSync, unlinkSync } from "node:fs";
import { basename, join } from "node:path";

/**
 * Temp files are `.<target name>.<owner pid>.<12 hex>.kmse-tmp` beside their
 * target. A run removes its own on success, failure and SIGINT/SIGTERM/SIGHUP;
 * `kill -9` cannot be caught, so every run that writes into a directory first
 * removes the temp files there whose owner process is gone.
 */
const TEMP_PATTERN = /^\..+\.(\d+)\.[0-9a-f]{12}\.kmse-tmp$/;

const live = new Set<string>();

export function tempPathFor(realTarget: string, directory: string): string {
  return join(
    directory,
    `.${basename(realTarget)}.${process.pid}.${randomBytes(6).toString("hex")}.kmse-tmp`,
  );
}

/** Remembered until `forgetTemp`, so a signal or exit can remove it. */
export function trackTemp(path: string): void {
  live.add(path);
}

export function forgetTemp(path: string): void {
  live.delete(path);
}

/** Synchronous, for signal handlers and `process.on("exit")`. */
export function removeLiveTemps(): void {
  for (const path of live) {
    try {
      unlinkSync(path);
    } catch {
      // Already renamed into place or removed.
    }
    live.delete(path);
  }
}

function processAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes stale temp files (owner pid gone) in `directory`; returns how many. Never throws. */
export function removeStaleTemps(directory: string): number {
  let removed = 0;
  let names: string[];
  try {
    names = readdirSync(directory);
  } catch {
    return 0;
  }
  for (const name of names) {
    const match = TEMP_PATTERN.exec(name);
    if (match === null || processAlive(Number(match[1]))) continue;
    const path = join(directory, name);
    try {
      if (!lstatSync(path).isFile()) continue;
      unlinkSync(path);
      removed++;
    } catch {
      // Raced with another cleaner, or not ours to remove.
    }
  }
  return removed;
}
