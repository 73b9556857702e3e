import { readFileSync } from "node:fs";
import { EnvelopeError } from "@kms-envelope/core";
import type { CliEnvironment } from "./cli-environment.js";
import { BrokenPipe } from "./cli-errors.js";
import { flagOption, parseCommandOptions } from "./command-options.js";
import { COMMANDS } from "./commands/table.js";
import { reportError } from "./error-report.js";
import { BROKEN_PIPE_STATUS, EXIT_STATUS } from "./exit-codes.js";
import { commandHelp, generalHelp } from "./help.js";
import { writeStdout } from "./io/stdout.js";

export type { CliEnvironment } from "./cli-environment.js";

export function cliVersion(): string {
  const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
    version: string;
  };
  return manifest.version;
}

/** Runs one command; returns the exit status. Errors become one line on standard error. */
export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  try {
    const [first, ...rest] = argv;
    if (first === undefined) {
      environment.log("kms-envelope: error INVALID_ARGUMENT: no command given (try: kms-envelope --help)");
      return EXIT_STATUS.INVALID_ARGUMENT;
    }
    if (first === "--help" || first === "-h") {
      await writeStdout(generalHelp(COMMANDS));
      return 0;
    }
    if (first === "--version" || first === "-V") {
      await writeStdout(`kms-envelope ${cliVersion()}\n`);
      return 0;
    }
    if (first === "help") {
      const topic = rest[0];
      if (topic === undefined) await writeStdout(generalHelp(COMMANDS));
      else {
        const entry = Object.hasOwn(COMMANDS, topic) ? COMMANDS[topic] : undefined;
        if (entry === undefined)
          throw new EnvelopeError("INVALID_ARGUMENT", `unknown command "${topic}" (see kms-envelope --help)`);
        await writeStdout(commandHelp(entry));
      }
      return 0;
    }
    const entry = Object.hasOwn(COMMANDS, first) ? COMMANDS[first] : undefined;
    if (entry === undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        first.startsWith("-")
          ? `options come after the command (see kms-envelope --help)`
          : `unknown command "${first}" (see kms-envelope --help)`,
      );
    }
    const input = parseCommandOptions(first, rest, entry.options);
    if (flagOption(input.values, "help")) {
      await writeStdout(commandHelp(entry));
      return 0;
    }
    const status = await entry.run(input, environment);
    return typeof status === "number" ? status : 0;
  } catch (error) {
    if (error instanceof BrokenPipe) return BROKEN_PIPE_STATUS;
    const report = reportError(error);
    environment.log(report.line);
    return report.status;
  }
}
