import type { OptionSpecs } from "./command-options.js";
import type { CommandEntry } from "./commands/table.js";

export function generalHelp(commands: Readonly<Record<string, CommandEntry>>): string {
  const width = Math.max(...Object.keys(commands).map((name) => name.length));
  return `usage: kms-envelope <command> [options]

${Object.entries(commands)
  .map(([name, entry]) => `  ${name.padEnd(width)}  ${entry.summary}`)
  .join("\n")}

  kms-envelope help COMMAND   (or COMMAND --help) for a command's options
  kms-envelope --version

Keys come from --key, else KMS_ENVELOPE_KEYS (URIs separated by commas or spaces).
Input and output default to standard input and output. Docs: docs/cli.md
`;
}

function optionLines(options: OptionSpecs): string {
  const rows = Object.entries(options).map(([name, spec]) => {
    const flag = `${spec.short ? `-${spec.short}, ` : "    "}--${name}${spec.value ? ` ${spec.value}` : ""}`;
    return [flag, spec.help] as const;
  });
  const width = Math.max(...rows.map(([flag]) => flag.length));
  return rows.map(([flag, help]) => `  ${flag.padEnd(width)}  ${help}`).join("\n");
}

export function commandHelp(entry: CommandEntry): string {
  return `usage: kms-envelope ${entry.usage}

${entry.summary}

options:
${optionLines(entry.options)}
`;
}
