import {
  EnvelopeError,
  type KeyEncryptionKey,
  type Keyring,
  parseKeyUri,
  type RewrapChanges,
  type RewrapReport,
  rewrapStream,
  type WrappedKeyId,
} from "@kms-envelope/core";
import type { Keystore } from "@kms-envelope/local";
import type { CliEnvironment, CommandInput, CommandValues } from "../cli-environment.js";
import { COMMON_OPTIONS, flagOption, listOption, stringOption } from "../command-options.js";
import { parsePairs } from "../context-options.js";
import { reportError } from "../error-report.js";
import { envelopeDecoder, sameFormAs } from "../io/armor-stream.js";
import { type InputSource, openInput } from "../io/input.js";
import { openOutput, sameFile } from "../io/output.js";
import { transfer } from "../io/transfer.js";
import { KEY_OPTIONS, keySelection, openKeks, resolveKeys, uniqueUris } from "../key-resolution.js";
import { printResult } from "./data-command.js";

export const REWRAP_OPTIONS = {
  to: {
    type: "string",
    multiple: true,
    value: "URI",
    help: "wrap the data key for this key too (repeatable; replaces an entry of the same key)",
  },
  remove: {
    type: "string",
    multiple: true,
    value: "URI",
    help: "drop this key's wrapped entry (repeatable)",
  },
  ...KEY_OPTIONS,
  "expect-context": {
    type: "string",
    multiple: true,
    value: "K=V",
    help: "refuse envelopes whose context is not exactly these pairs",
  },
  input: { type: "string", short: "i", value: "FILE", help: "read FILE (default: standard input)" },
  output: { type: "string", short: "o", value: "FILE", help: "write FILE (default: standard output)" },
  "in-place": { type: "boolean", help: "rewrap each FILE given as an argument in place, atomically" },
  ...COMMON_OPTIONS,
} as const;

interface FileResult {
  readonly file: string;
  readonly ok: boolean;
  readonly added?: readonly WrappedKeyId[];
  readonly removed?: readonly WrappedKeyId[];
  readonly kept?: readonly WrappedKeyId[];
  readonly reencrypted?: number;
  readonly error?: { readonly code: string; readonly message: string };
}

/** `--remove local://old` names an entry that may no longer open; other schemes open (alias → ARN matching). */
async function removals(
  uris: readonly string[],
  keystore: Keystore,
): Promise<(KeyEncryptionKey | WrappedKeyId)[]> {
  const out: (KeyEncryptionKey | WrappedKeyId)[] = [];
  const cloud: string[] = [];
  for (const uri of uris) {
    const { scheme, location } = parseKeyUri(uri);
    if (scheme === "local") out.push({ provider: "local", keyId: location.replace(/\/+$/, "") });
    else cloud.push(uri);
  }
  if (cloud.length > 0) out.push(...(await openKeks(cloud, keystore)));
  return out;
}

const ids = (list: readonly WrappedKeyId[]) => list.map((k) => `${k.provider}:${k.keyId}`).join(", ");

function summary(result: FileResult): string {
  const parts = [
    result.added && result.added.length > 0 ? `added ${ids(result.added)}` : undefined,
    result.removed && result.removed.length > 0 ? `removed ${ids(result.removed)}` : undefined,
    result.kept && result.kept.length > 0 ? `kept ${ids(result.kept)}` : undefined,
    result.reencrypted ? `${result.reencrypted} re-encrypted in the KMS` : undefined,
  ].filter((part) => part !== undefined);
  return `rewrapped ${result.file}: ${parts.join("; ")}`;
}

/** Rewraps one envelope stream: header rewritten, body copied byte for byte, armored stays armored. */
async function rewrapOne(
  input: InputSource,
  outputPath: string | undefined,
  from: Keyring,
  to: RewrapChanges | Keyring,
  values: CommandValues,
  environment: CliEnvironment,
): Promise<{ report: RewrapReport; toStdout: boolean }> {
  const output = await openOutput(outputPath, {
    plaintext: false,
    refuseTerminal: "pass -o FILE (rewrap writes the binary form unless the input is armored)",
    cwd: environment.cwd,
  });
  const expectedContext = parsePairs(listOption(values, "expect-context"), "--expect-context");
  const rewrapping = rewrapStream({ from, to, expectedContext, signal: environment.signal });
  const decoder = envelopeDecoder();
  const stages = [decoder, rewrapping, sameFormAs(decoder.armored)];
  await transfer(input, stages, output, environment.signal);
  return { report: await rewrapping.report, toStdout: output.toStdout };
}

export async function runRewrap(
  { values, positionals }: CommandInput,
  environment: CliEnvironment,
): Promise<number> {
  const inPlace = flagOption(values, "in-place");
  const toUris = uniqueUris(listOption(values, "to"));
  const removeUris = uniqueUris(listOption(values, "remove"));
  if (inPlace) {
    if (positionals.length === 0)
      throw new EnvelopeError("INVALID_ARGUMENT", "rewrap --in-place needs one or more FILE arguments");
    if (stringOption(values, "input") !== undefined || stringOption(values, "output") !== undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", "rewrap --in-place takes FILE arguments, not -i/-o");
    }
  } else if (positionals.length > 0) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `rewrap takes FILE arguments only with --in-place (got "${positionals[0]}")`,
    );
  }
  const {
    keyring: from,
    keystore,
    configured,
  } = await resolveKeys(
    keySelection(values, inPlace ? positionals[0] : stringOption(values, "input")),
    environment,
    true,
  );
  let to: RewrapChanges | Keyring;
  if (toUris.length > 0 || removeUris.length > 0) {
    to = { add: await openKeks(toUris, keystore), remove: await removals(removeUris, keystore) };
  } else if (configured?.description.source === "config" && configured.keyring.primary !== undefined) {
    // A profile alone (--profile B): the list becomes B's encrypt keys; B's decrypt keys may unwrap.
    to = configured.keyring;
  } else {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      "rewrap needs --to URI, --remove URI, or a config profile with encrypt keys",
    );
  }

  if (!inPlace) {
    const input = openInput(stringOption(values, "input"), environment.cwd);
    const outputPath = stringOption(values, "output");
    if (sameFile(input.stats, outputPath, environment.cwd)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `-o ${outputPath} is the same file as -i: use rewrap --in-place ${outputPath}`,
      );
    }
    const { report, toStdout } = await rewrapOne(input, outputPath, from, to, values, environment);
    const result: FileResult = { file: input.name, ok: true, ...pick(report) };
    await printResult(values, environment, toStdout, result, summary(result));
    return 0;
  }

  const results: FileResult[] = [];
  let status = 0;
  for (const file of positionals) {
    if (environment.signal.aborted) break;
    try {
      const input = openInput(file, environment.cwd);
      if (!input.stats?.isFile())
        throw new EnvelopeError("INVALID_ARGUMENT", `${file} is not a regular file`);
      const { report } = await rewrapOne(input, file, from, to, values, environment);
      const result: FileResult = { file, ok: true, ...pick(report) };
      results.push(result);
      if (!flagOption(values, "json") && !flagOption(values, "quiet")) environment.log(summary(result));
    } catch (error) {
      if (environment.signal.aborted) throw error;
      const report = reportError(error);
      status ||= report.status;
      results.push({ file, ok: false, error: { code: report.code, message: report.line } });
      if (!flagOption(values, "json"))
        environment.log(report.line.replace(`error ${report.code}: `, `error ${report.code}: ${file}: `));
    }
  }
  if (flagOption(values, "json")) await printResult(values, environment, false, results, "");
  else if (positionals.length > 1 && !flagOption(values, "quiet")) {
    const failed = results.filter((r) => !r.ok).length;
    environment.log(
      `rewrap: ${results.length - failed} of ${positionals.length} files rewrapped${failed > 0 ? `, ${failed} failed` : ""}`,
    );
  }
  return status;
}

function pick(report: RewrapReport) {
  return { added: report.added, removed: report.removed, kept: report.kept, reencrypted: report.reencrypted };
}
