import { EnvelopeError, encryptStream } from "@kms-envelope/core";
import type { CliEnvironment, CommandInput } from "../cli-environment.js";
import { COMMON_OPTIONS, flagOption, listOption, noPositionals, stringOption } from "../command-options.js";
import { formatContext, parsePairs } from "../context-options.js";
import { armorStream } from "../io/armor-stream.js";
import { openOutput } from "../io/output.js";
import { transfer } from "../io/transfer.js";
import { KEY_OPTIONS, keySelection, resolveKeys } from "../key-resolution.js";
import { bytesRead, DATA_OPTIONS, dataProgress, openDataEnds, printResult } from "./data-command.js";
import { envelopeTap } from "./envelope-tap.js";

export const ENCRYPT_OPTIONS = {
  ...KEY_OPTIONS,
  context: {
    type: "string",
    multiple: true,
    short: "c",
    value: "K=V",
    help: "add a pair to the encryption context (repeatable)",
  },
  ...DATA_OPTIONS,
  armor: { type: "boolean", short: "a", help: "write the one-line text form (kmse1:…)" },
  "frame-length": { type: "string", value: "N", help: "plaintext bytes per frame (default 1048576)" },
  ...COMMON_OPTIONS,
} as const;

export async function runEncrypt({ values, positionals }: CommandInput, environment: CliEnvironment) {
  noPositionals({ values, positionals }, "encrypt");
  const frameText = stringOption(values, "frame-length");
  const frameLength = frameText === undefined ? undefined : Number(frameText);
  if (frameLength !== undefined && (!/^\d+$/.test(frameText!) || !Number.isSafeInteger(frameLength))) {
    throw new EnvelopeError("INVALID_ARGUMENT", "--frame-length takes a whole number of bytes");
  }
  const given = parsePairs(listOption(values, "context"), "--context");
  const armored = flagOption(values, "armor");
  const { input, outputPath } = openDataEnds(values, "encrypt", environment);
  const { keyring, configured } = await resolveKeys(
    keySelection(values, stringOption(values, "input")),
    environment,
    false,
  );
  // A profile's context defaults, with --context over them.
  const context = configured === undefined ? given : configured.contextFor(given);
  const output = await openOutput(outputPath, {
    plaintext: false,
    refuseTerminal: armored ? undefined : "pass --armor for the text form, or -o FILE",
    cwd: environment.cwd,
  });
  const progress = dataProgress("encrypt", input, values);
  const encrypting = encryptStream({ keyring, context, frameLength, signal: environment.signal });
  const tap = envelopeTap(encrypting);
  const stages = [...progress.stages, encrypting];
  if (armored) stages.push(armorStream());
  try {
    await transfer(input, stages, output, environment.signal);
  } finally {
    progress.stop();
  }
  const info = tap.info!;
  const keys = info.wrappedKeys.map((entry) => ({ provider: entry.provider, keyId: entry.keyId }));
  const plaintextBytes = bytesRead(input);
  await printResult(
    values,
    environment,
    output.toStdout,
    {
      command: "encrypt",
      output: output.name,
      plaintextBytes,
      envelopeBytes: tap.bytes,
      armored,
      messageId: info.messageId,
      context: info.context,
      keys,
    },
    `encrypted ${plaintextBytes} bytes → ${tap.bytes}-byte envelope for ${keys.map((k) => `${k.provider}:${k.keyId}`).join(", ")}${Object.keys(info.context).length > 0 ? ` (context ${formatContext(info.context)})` : ""}`,
  );
}
