import { armor, EnvelopeError, encrypt } from "@kms-envelope/core";
import { type CliEnvironment, noExtraArguments, type ParsedOptions } from "../cli.js";
import { readInput, writeOutput } from "../io.js";
import { parsePairs } from "../options.js";
import { openCliKeyring } from "./open-keyring.js";

export async function runEncrypt(
  rest: readonly string[],
  values: ParsedOptions,
  environment: CliEnvironment,
) {
  noExtraArguments(rest, "encrypt");
  const frameLength = values["frame-length"] === undefined ? undefined : Number(values["frame-length"]);
  if (frameLength !== undefined && !Number.isSafeInteger(frameLength)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "--frame-length takes a whole number of bytes");
  }
  const keyring = await openCliKeyring(values, environment.env);
  const plaintext = await readInput(values.input);
  const envelope = await encrypt(plaintext, {
    keyring,
    context: parsePairs(values.context, "--context"),
    frameLength,
  });
  writeOutput(values.output, values.armor ? `${armor(envelope)}\n` : envelope);
  environment.log(
    `encrypted ${plaintext.length} bytes → ${envelope.length}-byte envelope for ${keyring.wrapping.map((kek) => `${kek.provider}:${kek.keyId}`).join(", ")}`,
  );
}
