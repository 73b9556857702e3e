import { closeSync, openSync, readSync } from "node:fs";
import { resolve } from "node:path";
import { EnvelopeError, type EnvelopeInfo } from "@kms-envelope/core";
import type { CliEnvironment, CommandInput } from "../cli-environment.js";
import { CliIoError, errnoText } from "../cli-errors.js";
import { COMMON_OPTIONS, flagOption, noPositionals, stringOption } from "../command-options.js";
import { formatContext } from "../context-options.js";
import { readEnvelopeHeader } from "../io/header-reader.js";
import { openInput } from "../io/input.js";
import { writeStdout } from "../io/stdout.js";

export const INSPECT_OPTIONS = {
  input: { type: "string", short: "i", value: "FILE", help: "read FILE (default: standard input)" },
  ...COMMON_OPTIONS,
} as const;

/** One read buffer: inspect reads the header plus at most this much. */
export const INSPECT_READ_BUFFER = 64 * 1024;

/** Positional reads of one buffer at a time, so nothing past the header's buffer is read. */
async function* fileChunks(path: string): AsyncGenerator<Uint8Array> {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    throw new EnvelopeError("INVALID_ARGUMENT", `cannot read ${path}: ${errnoText(error)}`);
  }
  try {
    for (;;) {
      const buffer = Buffer.allocUnsafe(INSPECT_READ_BUFFER);
      let read: number;
      try {
        read = readSync(fd, buffer, 0, buffer.length, null);
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "EISDIR")
          throw new EnvelopeError("INVALID_ARGUMENT", `${path} is a directory`);
        throw new CliIoError(`cannot read ${path}: ${errnoText(error)}`);
      }
      if (read === 0) return;
      yield buffer.subarray(0, read);
    }
  } finally {
    closeSync(fd);
  }
}

function describe(info: EnvelopeInfo): string {
  return [
    `format      v${info.version}, suite 0x${info.suite.toString(16).padStart(4, "0")} (${info.suiteName})`,
    `message id  ${info.messageId}`,
    `frames      ${info.frameLength} bytes`,
    `context     ${formatContext(info.context)}`,
    `header      ${info.headerLength} bytes`,
    `wrapped for ${info.wrappedKeys.length} key${info.wrappedKeys.length === 1 ? "" : "s"}:`,
    ...info.wrappedKeys.map((entry) => `  ${entry.provider}  ${entry.keyId}  (${entry.wrappedLength} bytes)`),
  ].join("\n");
}

/** Prints the header; reads only as far as the header (plus one read buffer), makes no KMS call. */
export async function runInspect({ values, positionals }: CommandInput, environment: CliEnvironment) {
  noPositionals({ values, positionals }, "inspect");
  const path = stringOption(values, "input");
  let chunks: AsyncIterator<Uint8Array>;
  if (path === undefined || path === "-") {
    chunks = openInput(path, environment.cwd).stream[Symbol.asyncIterator]();
  } else {
    chunks = fileChunks(resolve(environment.cwd, path));
  }
  let info: EnvelopeInfo;
  try {
    info = await readEnvelopeHeader(chunks);
  } finally {
    await chunks.return?.();
  }
  await writeStdout(
    flagOption(values, "json") ? `${JSON.stringify(info, null, 2)}\n` : `${describe(info)}\n`,
  );
}
