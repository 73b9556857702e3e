import { createReadStream, fstatSync, openSync, type Stats } from "node:fs";
import { resolve } from "node:path";
import type { Readable } from "node:stream";
import { EnvelopeError } from "@kms-envelope/core";
import { CliIoError, errnoText } from "../cli-errors.js";

/** What a command reads: a file, a FIFO or device, or standard input. */
export interface InputSource {
  readonly stream: Readable;
  /** "standard input" or the path as given. */
  readonly name: string;
  /** Bytes, when the input is a regular file (for progress). */
  readonly size: number | undefined;
  /** The opened file's identity, to refuse `-o` naming the same file. */
  readonly stats: Stats | undefined;
}

/** Large reads: fewer chunks through the pipeline, same constant memory. */
export const READ_BUFFER = 256 * 1024;

/**
 * Opens `-i PATH` (standard input for undefined or "-"). Standard input that
 * is a terminal is refused unless named with `-i -`: waiting silently for
 * typed bytes looks like a hang.
 */
export function openInput(path: string | undefined, cwd: string): InputSource {
  if (path === undefined || path === "-") {
    if (path === undefined && process.stdin.isTTY) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "standard input is a terminal: give -i FILE, pipe data in, or pass -i - to type it",
      );
    }
    const stats = fstatSync(0);
    return {
      stream: process.stdin,
      name: "standard input",
      size: stats.isFile() ? stats.size : undefined,
      stats: stats.isFile() ? stats : undefined,
    };
  }
  let fd: number;
  try {
    fd = openSync(resolve(cwd, path), "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "EISDIR" || code === "ENOTDIR" || code === "EACCES") {
      throw new EnvelopeError("INVALID_ARGUMENT", `cannot read ${path}: ${errnoText(error)}`);
    }
    throw new CliIoError(`cannot read ${path}: ${errnoText(error)}`);
  }
  const stats = fstatSync(fd);
  if (stats.isDirectory()) throw new EnvelopeError("INVALID_ARGUMENT", `${path} is a directory`);
  return {
    stream: createReadStream("", { fd, highWaterMark: READ_BUFFER }),
    name: path,
    size: stats.isFile() ? stats.size : undefined,
    stats,
  };
}
