import { inspect } from "@kms-envelope/core";
import { type CliEnvironment, noExtraArguments, type ParsedOptions } from "../cli.js";
import { readInput } from "../io.js";

export async function runInspect(
  rest: readonly string[],
  values: ParsedOptions,
  _environment: CliEnvironment,
) {
  noExtraArguments(rest, "inspect");
  const info = inspect(await readInput(values.input));
  if (values.json) {
    process.stdout.write(`${JSON.stringify(info, null, 2)}\n`);
    return;
  }
  const lines = [
    `format      v${info.version}, suite 0x${info.suite.toString(16).padStart(4, "0")} (${info.suiteName})`,
    `message id  ${info.messageId}`,
    `frames      ${info.frameLength} bytes`,
    `context     ${
      Object.keys(info.context).length === 0
        ? "(empty)"
        : Object.entries(info.context)
            .map(([k, v]) => `${k}=${v}`)
            .join(", ")
    }`,
    `wrapped for ${info.wrappedKeys.length} key${info.wrappedKeys.length === 1 ? "" : "s"}:`,
    ...info.wrappedKeys.map((entry) => `  ${entry.provider}  ${entry.keyId}  (${entry.wrappedLength} bytes)`),
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}
