import { decrypt } from "@kms-envelope/core";
import { type CliEnvironment, noExtraArguments, type ParsedOptions } from "../cli.js";
import { readInput, writeOutput } from "../io.js";
import { parsePairs } from "../options.js";
import { openCliKeyring } from "./open-keyring.js";

export async function runDecrypt(
  rest: readonly string[],
  values: ParsedOptions,
  environment: CliEnvironment,
) {
  noExtraArguments(rest, "decrypt");
  const keyring = await openCliKeyring(values, environment.env);
  const envelope = await readInput(values.input);
  const result = await decrypt(envelope, {
    keyring,
    expectedContext: parsePairs(values["expect-context"], "--expect-context"),
  });
  writeOutput(values.output, result.plaintext);
  environment.log(
    `decrypted ${result.plaintext.length} bytes with ${result.unwrappedWith.provider}:${result.unwrappedWith.keyId}`,
  );
}
