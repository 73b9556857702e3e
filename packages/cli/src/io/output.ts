import {
  closeSync,
  constants,
  fsyncSync,
  lstatSync,
  openSync,
  realpathSync,
  type Stats,
  statSync,
} from "node:fs";
import { type FileHandle, open, rename, unlink } from "node:fs/promises";
import { connect } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { Writable } from "node:stream";
import { isatty } from "node:tty";
import { EnvelopeError } from "@kms-envelope/core";
import { BrokenPipe, CliIoError, errnoText, isBrokenPipe } from "../cli-errors.js";
import { forgetTemp, removeStaleTemps, tempPathFor, trackTemp } from "./temp-files.js";

/** Where a command's bytes go. Nothing appears under a file's name before `commit`. */
export interface OutputTarget {
  readonly stream: Writable;
  /** "standard output" or the path as given. */
  readonly name: string;
  readonly toStdout: boolean;
  /** Bytes written so far. */
  written(): number;
  /** Call once the stream has finished: fsync and rename into place (files), or flush. */
  commit(): Promise<void>;
  /** Call on failure: the temp file goes; nothing is renamed. Never throws. */
  abort(): Promise<void>;
}

export interface OutputOptions {
  /** Plaintext is always created 0600; other outputs keep a replaced file's mode (else 0644). */
  readonly plaintext: boolean;
  /** Set when binary bytes must not go to a terminal: the refusal's hint. */
  readonly refuseTerminal?: string | undefined;
  /** Working directory for a relative path. */
  readonly cwd: string;
}

const WRITE_BUFFER = 1024 * 1024;

function refuseTerminal(fd: number, name: string, hint: string | undefined): void {
  if (hint !== undefined && isatty(fd)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `refusing to write a binary envelope to the terminal ${name}: ${hint}`,
    );
  }
}

/** Standard output, with a closed pipe turned into `BrokenPipe` (ends quietly). */
function stdoutTarget(options: OutputOptions): OutputTarget {
  refuseTerminal(1, "(standard output)", options.refuseTerminal);
  let bytes = 0;
  const stream = new Writable({
    highWaterMark: WRITE_BUFFER,
    write(chunk: Buffer, _encoding, callback) {
      bytes += chunk.length;
      process.stdout.write(chunk, (error) =>
        callback(error ? (isBrokenPipe(error) ? new BrokenPipe() : error) : null),
      );
    },
  });
  return {
    stream,
    name: "standard output",
    toStdout: true,
    written: () => bytes,
    commit: async () => {},
    abort: async () => {},
  };
}

function ioError(action: string, path: string, error: unknown): CliIoError {
  return new CliIoError(`cannot ${action} ${path}: ${errnoText(error)}`);
}

/** A character device or FIFO (or a symlink to one): written in place, as a stream, never replaced. */
async function directTarget(path: string, stats: Stats, options: OutputOptions): Promise<OutputTarget> {
  let handle: FileHandle;
  try {
    // No O_CREAT, no O_TRUNC: this can only ever open what is already there.
    handle = await open(path, constants.O_WRONLY);
  } catch (error) {
    throw ioError("open", path, error);
  }
  const now = await handle.stat();
  if (!(now.isCharacterDevice() || now.isFIFO()) || now.ino !== stats.ino || now.dev !== stats.dev) {
    await handle.close();
    throw new EnvelopeError("INVALID_ARGUMENT", `${path} changed while it was being opened`);
  }
  try {
    refuseTerminal(handle.fd, path, options.refuseTerminal);
  } catch (error) {
    await handle.close();
    throw error;
  }
  const stream = handle.createWriteStream({ highWaterMark: WRITE_BUFFER });
  const closed = new Promise<void>((done) => stream.once("close", () => done()));
  return {
    stream,
    name: path,
    toStdout: false,
    written: () => stream.bytesWritten,
    commit: () => closed,
    abort: async () => {
      stream.destroy();
      await closed;
    },
  };
}

/** A Unix socket: connected to and written as a stream. */
async function socketTarget(path: string): Promise<OutputTarget> {
  const socket = connect({ path });
  await new Promise<void>((done, fail) => {
    socket.once("connect", done);
    socket.once("error", (error) => fail(ioError("connect to", path, error)));
  });
  const closed = new Promise<void>((done) => socket.once("close", () => done()));
  return {
    stream: socket,
    name: path,
    toStdout: false,
    written: () => socket.bytesWritten,
    commit: () => closed,
    abort: async () => {
      socket.destroy();
      await closed;
    },
  };
}

/**
 * A regular file (or a symlink to one, followed; the link stays a link),
 * or a new file: written to a 0600 temp file in the real target's directory,
 * fsynced, and renamed over the real target only by `commit`.
 */
async function fileTarget(
  path: string,
  realTarget: string,
  existing: Stats | undefined,
  options: OutputOptions,
): Promise<OutputTarget> {
  const directory = dirname(realTarget);
  removeStaleTemps(directory);
  const temp = tempPathFor(realTarget, directory);
  let handle: FileHandle;
  try {
    handle = await open(temp, "wx", 0o600);
  } catch (error) {
    throw ioError("write in", directory, error);
  }
  trackTemp(temp);
  const finalMode = options.plaintext ? 0o600 : existing ? existing.mode & 0o7777 : 0o644;
  const counter = { bytes: 0 };
  const stream = handleWriter(handle, counter);
  let settled = false;
  const removeTemp = async () => {
    await handle.close().catch(() => {});
    await unlink(temp).catch(() => {});
    forgetTemp(temp);
  };
  return {
    stream,
    name: path,
    toStdout: false,
    written: () => counter.bytes,
    async commit() {
      settled = true;
      try {
        if (finalMode !== 0o600) await handle.chmod(finalMode);
        await handle.close();
        await rename(temp, realTarget);
      } catch (error) {
        await removeTemp();
        throw ioError("write", path, error);
      }
      forgetTemp(temp);
      syncDirectory(directory);
    },
    async abort() {
      if (settled) return;
      settled = true;
      stream.destroy();
      await removeTemp();
    },
  };
}

/** Writes every byte of `chunks`: one `writev` for the lot, then the rest of any short write. */
async function writeAll(handle: FileHandle, chunks: readonly Uint8Array[]): Promise<void> {
  const { bytesWritten } = await handle.writev(chunks as Uint8Array[]);
  let skip = bytesWritten;
  for (const chunk of chunks) {
    if (skip >= chunk.length) {
      skip -= chunk.length;
      continue;
    }
    let offset = skip;
    skip = 0;
    while (offset < chunk.length) {
      const written = await handle.write(chunk, offset, chunk.length - offset);
      offset += written.bytesWritten;
    }
  }
}

/**
 * Writes through the handle and fsyncs it before `finish`, so a finished
 * stream is on disk. Core emits 64 KiB chunks: `writev` hands everything
 * buffered meanwhile to one system call (as fs.WriteStream does), instead of
 * one write and one thread-pool round trip per chunk.
 */
function handleWriter(handle: FileHandle, counter: { bytes: number }): Writable {
  return new Writable({
    highWaterMark: WRITE_BUFFER,
    writev(entries: { chunk: Buffer }[], callback) {
      const chunks = entries.map((entry) => entry.chunk);
      for (const chunk of chunks) counter.bytes += chunk.length;
      writeAll(handle, chunks).then(() => callback(), callback);
    },
    final(callback) {
      handle.sync().then(() => callback(), callback);
    },
  });
}

/** Makes the rename durable; a file system that cannot fsync a directory is not an error. */
function syncDirectory(directory: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(directory, "r");
    fsyncSync(fd);
  } catch {
    // Best effort.
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

function statOrUndefined(path: string, follow: boolean): Stats | undefined {
  try {
    return follow ? statSync(path) : lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw ioError("examine", path, error);
  }
}

/** Opens `-o PATH` (standard output for undefined or "-") by what PATH is. */
export async function openOutput(path: string | undefined, options: OutputOptions): Promise<OutputTarget> {
  if (path === undefined || path === "-") return stdoutTarget(options);
  const absolute = resolve(options.cwd, path);
  const stats = statOrUndefined(absolute, true);
  if (stats === undefined) {
    if (statOrUndefined(absolute, false)?.isSymbolicLink()) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${path} is a symbolic link to nothing: refusing to write through it`,
      );
    }
    let directory: string;
    try {
      directory = realpathSync(dirname(absolute));
    } catch (error) {
      throw ioError("write", path, error);
    }
    return fileTarget(path, join(directory, basename(absolute)), undefined, options);
  }
  if (stats.isDirectory()) throw new EnvelopeError("INVALID_ARGUMENT", `${path} is a directory`);
  if (stats.isFile()) return fileTarget(path, realpathSync(absolute), stats, options);
  if (stats.isCharacterDevice() || stats.isFIFO()) return directTarget(absolute, stats, options);
  if (stats.isSocket()) return socketTarget(absolute);
  throw new EnvelopeError("INVALID_ARGUMENT", `${path} is a block device: refusing to write to it`);
}

/** The same file (device and inode) as an input, or not. */
export function sameFile(a: Stats | undefined, path: string | undefined, cwd: string): boolean {
  if (a === undefined || path === undefined || path === "-") return false;
  const b = statOrUndefined(resolve(cwd, path), true);
  return b !== undefined && a.isFile() && b.dev === a.dev && b.ino === a.ino;
}
