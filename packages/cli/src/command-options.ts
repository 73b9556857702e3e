import { parseArgs } from "node:util";
import { EnvelopeError } from "@kms-envelope/core";
import type { CommandInput, CommandValues } from "./cli-environment.js";

export interface OptionSpec {
  readonly type: "string" | "boolean";
  readonly multiple?: boolean;
  readonly short?: string;
  /** Value placeholder and one-line description for `--help`. */
  readonly value?: string;
  readonly help: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** Options every command takes. */
export const COMMON_OPTIONS = {
  help: { type: "boolean", short: "h", help: "show this help" },
  quiet: { type: "boolean", short: "q", help: "print nothing on standard error but errors" },
  json: { type: "boolean", help: "print the result as JSON" },
} as const satisfies OptionSpecs;

/** Where a mistaken option usually came from: shown as "did you mean …?". */
const LIKELY_MEANT: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  decrypt: { context: "expect-context", c: "expect-context", armor: "(decrypt reads both forms)" },
  encrypt: { "expect-context": "context" },
  rewrap: { key: "from", add: "to", k: "from" },
};

function distance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let previous = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const current = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, previous + (a[i - 1] === b[j - 1] ? 0 : 1));
      previous = current;
    }
  }
  return row[b.length]!;
}

function suggestion(command: string, name: string, specs: OptionSpecs): string {
  const meant = LIKELY_MEANT[command]?.[name];
  if (meant !== undefined) return meant.startsWith("(") ? ` ${meant}` : ` (did you mean --${meant}?)`;
  let best: string | undefined;
  let bestDistance = 3;
  for (const candidate of Object.keys(specs)) {
    const d = distance(name, candidate);
    if (d < bestDistance) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best === undefined ? "" : ` (did you mean --${best}?)`;
}

export function optionList(specs: OptionSpecs): string {
  return Object.keys(specs)
    .map((name) => `--${name}`)
    .join(", ");
}

/**
 * Parses `argv` against exactly one command's options: an option of another
 * command (or a typo) is `INVALID_ARGUMENT` naming what this command takes,
 * never silently ignored.
 */
export function parseCommandOptions(
  command: string,
  argv: readonly string[],
  specs: OptionSpecs,
): CommandInput {
  const { tokens } = parseArgs({
    args: [...argv],
    options: {},
    strict: false,
    tokens: true,
    allowPositionals: true,
  });
  const shorts = new Map(
    Object.entries(specs).flatMap(([name, spec]) => (spec.short ? [[spec.short, name]] : [])),
  );
  const seen = new Set<string>();
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const name = shorts.get(token.name) ?? token.name;
    const spec = Object.hasOwn(specs, name) ? specs[name] : undefined;
    if (spec !== undefined && !spec.multiple && seen.has(name)) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${command}: --${name} is given more than once`);
    }
    seen.add(name);
    if (spec === undefined) {
      const shown = token.rawName;
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${command} does not take ${shown}${suggestion(command, token.name, specs)}; it takes ${optionList(specs)}`,
      );
    }
  }
  const options = Object.fromEntries(
    Object.entries(specs).map(([name, spec]) => [
      name,
      {
        type: spec.type,
        ...(spec.multiple ? { multiple: true } : {}),
        ...(spec.short ? { short: spec.short } : {}),
      },
    ]),
  );
  try {
    const parsed = parseArgs({ args: [...argv], options, strict: true, allowPositionals: true });
    return { values: parsed.values as CommandValues, positionals: parsed.positionals };
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError("INVALID_ARGUMENT", `${command}: ${(error as Error).message}`);
  }
}

export function stringOption(values: CommandValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

export function listOption(values: CommandValues, name: string): string[] {
  const value = values[name];
  return Array.isArray(value) ? value : [];
}

export function flagOption(values: CommandValues, name: string): boolean {
  return values[name] === true;
}

export function noPositionals(input: CommandInput, command: string): void {
  if (input.positionals.length > 0) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `${command} takes no argument "${input.positionals[0]}" (input is -i FILE or standard input)`,
    );
  }
}
