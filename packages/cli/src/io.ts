import { randomBytes } from "node:crypto";
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, unlinkSync, writeSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";

/** Reads a file, or standard input when `path` is undefined or "-". */
export async function readInput(path: string | undefined): Promise<Uint8Array> {
  if (path !== undefined && path !== "-") {
    try {
      return readFileSync(path);
    } catch (error) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `cannot read ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      );
    }
  }
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/**
 * Writes the whole output, or nothing: a file is written to a temp file
 * beside it and renamed over the target only once complete, so a failure
 * never leaves a partial output file behind.
 */
export function writeOutput(path: string | undefined, data: Uint8Array | string, mode = 0o600): void {
  if (path === undefined || path === "-") {
    process.stdout.write(data);
    return;
  }
  const temporary = join(dirname(path), `.${basename(path)}.${randomBytes(6).toString("hex")}.tmp`);
  let descriptor: number | undefined;
  try {
    descriptor = openSync(temporary, "wx", mode);
    writeSync(descriptor, typeof data === "string" ? Buffer.from(data) : data);
    fsyncSync(descriptor);
    closeSync(descriptor);
    descriptor = undefined;
    renameSync(temporary, path);
  } catch (error) {
    if (descriptor !== undefined) closeSync(descriptor);
    try {
      unlinkSync(temporary);
    } catch {
      // Never created, or already renamed.
    }
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `cannot write ${path}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
    );
  }
}
