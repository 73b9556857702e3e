import { parseArgs } from "node:util";
import { EnvelopeError, isEnvelopeError } from "@kms-envelope/core";
import { runDecrypt } from "./commands/decrypt.js";
import { runEncrypt } from "./commands/encrypt.js";
import { runInspect } from "./commands/inspect.js";
import { runKeys } from "./commands/keys.js";
import { EXIT_STATUS } from "./exit-codes.js";

export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** Human-readable progress and results (standard error, so standard output stays data). */
  readonly log: (line: string) => void;
}

export const USAGE = `usage: kms-envelope <command> [options]

  keys create|list|rotate|disable|enable|schedule-deletion|cancel-deletion|audit [NAME] [--json]
  encrypt --key URI [--key URI…] [--context k=v…] [-i IN] [-o OUT] [--armor] [--frame-length N]
  decrypt [--key URI…] [--expect-context k=v…] [-i IN] [-o OUT]
  inspect [-i IN] [--json]

Keys come from --key, else KMS_ENVELOPE_KEYS (URIs separated by commas or spaces).
The local keystore is --keystore, else KMS_ENVELOPE_KEYSTORE, else ~/.config/kms-envelope/keystore.json.
Input and output default to standard input and output. Docs: docs/cli.md`;

const OPTIONS = {
  key: { type: "string", multiple: true, short: "k" },
  context: { type: "string", multiple: true, short: "c" },
  "expect-context": { type: "string", multiple: true },
  input: { type: "string", short: "i" },
  output: { type: "string", short: "o" },
  armor: { type: "boolean", short: "a" },
  json: { type: "boolean" },
  keystore: { type: "string" },
  "frame-length": { type: "string" },
  "waiting-days": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const;

export type ParsedOptions = ReturnType<typeof parse>["values"];

function parse(argv: readonly string[]) {
  try {
    return parseArgs({ args: [...argv], options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new EnvelopeError("INVALID_ARGUMENT", (error as Error).message);
  }
}

/** Runs one command; returns the exit status. Errors become one line on standard error. */
export async function runCli(argv: readonly string[], environment: CliEnvironment): Promise<number> {
  try {
    const { values, positionals } = parse(argv);
    const [command, ...rest] = positionals;
    if (values.help || command === undefined || command === "help") {
      environment.log(USAGE);
      return command === undefined && !values.help ? EXIT_STATUS.INVALID_ARGUMENT : 0;
    }
    switch (command) {
      case "keys":
        await runKeys(rest, values, environment);
        return 0;
      case "encrypt":
        await runEncrypt(rest, values, environment);
        return 0;
      case "decrypt":
        await runDecrypt(rest, values, environment);
        return 0;
      case "inspect":
        await runInspect(rest, values, environment);
        return 0;
      default:
        throw new EnvelopeError("INVALID_ARGUMENT", `unknown command "${command}" (see --help)`);
    }
  } catch (error) {
    if (isEnvelopeError(error)) {
      environment.log(`kms-envelope: error ${error.code}: ${error.message}`);
      return EXIT_STATUS[error.code];
    }
    environment.log(
      `kms-envelope: error UNEXPECTED: ${error instanceof Error ? error.message : String(error)}`,
    );
    return EXIT_STATUS.UNEXPECTED;
  }
}

export function noExtraArguments(rest: readonly string[], command: string): void {
  if (rest.length > 0)
    throw new EnvelopeError("INVALID_ARGUMENT", `${command} takes no argument "${rest[0]}"`);
}
