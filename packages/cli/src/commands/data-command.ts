import { EnvelopeError } from "@kms-envelope/core";
import type { CliEnvironment, CommandValues } from "../cli-environment.js";
import { flagOption, stringOption } from "../command-options.js";
import { type InputSource, openInput } from "../io/input.js";
import { sameFile } from "../io/output.js";
import { writeStdout } from "../io/stdout.js";
import { progressStage } from "../progress.js";

/** Options shared by the commands that stream data (encrypt, decrypt). */
export const DATA_OPTIONS = {
  input: {
    type: "string",
    short: "i",
    value: "FILE",
    help: "read FILE (default: standard input; - means it too)",
  },
  output: {
    type: "string",
    short: "o",
    value: "FILE",
    help: "write FILE (default: standard output; - means it too)",
  },
  "in-place": { type: "boolean", help: "replace the -i FILE itself (atomically)" },
} as const;

export interface DataEnds {
  readonly input: InputSource;
  readonly outputPath: string | undefined;
}

/**
 * Opens the input and decides the output: `-o` naming the input's own file
 * is refused (it would read what it overwrites) unless `--in-place` says so.
 */
export function openDataEnds(values: CommandValues, command: string, environment: CliEnvironment): DataEnds {
  const inputPath = stringOption(values, "input");
  const outputPath = stringOption(values, "output");
  const inPlace = flagOption(values, "in-place");
  if (inPlace && (inputPath === undefined || inputPath === "-")) {
    throw new EnvelopeError("INVALID_ARGUMENT", `${command} --in-place needs -i FILE`);
  }
  const input = openInput(inputPath, environment.cwd);
  if (inPlace) {
    if (!input.stats?.isFile())
      throw new EnvelopeError("INVALID_ARGUMENT", `${command} --in-place needs a regular file`);
    if (outputPath !== undefined && !sameFile(input.stats, outputPath, environment.cwd)) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${command} --in-place writes to -i itself: drop -o`);
    }
    return { input, outputPath: inputPath };
  }
  if (sameFile(input.stats, outputPath, environment.cwd)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `-o ${outputPath} is the same file as -i: pass --in-place to replace it`,
    );
  }
  return { input, outputPath };
}

/** Bytes the input stream has read (file streams and sockets both count them). */
export function bytesRead(input: InputSource): number {
  return (input.stream as unknown as { bytesRead?: number }).bytesRead ?? 0;
}

export function dataProgress(label: string, input: InputSource, values: CommandValues) {
  return progressStage({
    label,
    total: input.size,
    enabled: process.stderr.isTTY === true && !flagOption(values, "quiet"),
  });
}

/**
 * The result: `--json` prints `data` as JSON, on standard output unless the
 * data itself went there (then on standard error); otherwise `text` on
 * standard error. `--quiet` drops the text line, never the JSON.
 */
export async function printResult(
  values: CommandValues,
  environment: CliEnvironment,
  dataOnStdout: boolean,
  data: unknown,
  text: string,
): Promise<void> {
  if (flagOption(values, "json")) {
    const json = `${JSON.stringify(data, null, 2)}\n`;
    if (dataOnStdout) process.stderr.write(json);
    else await writeStdout(json);
    return;
  }
  if (!flagOption(values, "quiet")) environment.log(text);
}
