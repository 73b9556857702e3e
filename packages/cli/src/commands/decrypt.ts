import { decryptStream } from "@kms-envelope/core";
import type { CliEnvironment, CommandInput } from "../cli-environment.js";
import { COMMON_OPTIONS, listOption, noPositionals, stringOption } from "../command-options.js";
import { formatContext, parsePairs } from "../context-options.js";
import { envelopeDecoder } from "../io/armor-stream.js";
import { openOutput } from "../io/output.js";
import { transfer } from "../io/transfer.js";
import { KEY_OPTIONS, keySelection, resolveKeys } from "../key-resolution.js";
import { bytesRead, DATA_OPTIONS, dataProgress, openDataEnds, printResult } from "./data-command.js";

export const DECRYPT_OPTIONS = {
  ...KEY_OPTIONS,
  "expect-context": {
    type: "string",
    multiple: true,
    value: "K=V",
    help: "fail with CONTEXT_MISMATCH unless the context is exactly these pairs (repeatable)",
  },
  ...DATA_OPTIONS,
  ...COMMON_OPTIONS,
} as const;

/**
 * Decrypts frame by frame. To a file: into a 0600 temp file, renamed over
 * the target only after the last frame verified. To standard output or a
 * pipe: each frame as it verifies (the reader must check the exit status).
 */
export async function runDecrypt({ values, positionals }: CommandInput, environment: CliEnvironment) {
  noPositionals({ values, positionals }, "decrypt");
  const expectedContext = parsePairs(listOption(values, "expect-context"), "--expect-context");
  const { input, outputPath } = openDataEnds(values, "decrypt", environment);
  const { keyring, configured } = await resolveKeys(
    keySelection(values, stringOption(values, "input")),
    environment,
    true,
  );
  const output = await openOutput(outputPath, { plaintext: true, cwd: environment.cwd });
  const progress = dataProgress("decrypt", input, values);
  const decrypting = decryptStream({
    keyring,
    expectedContext,
    signal: environment.signal,
    // The profile's required context is checked once the header is authenticated, before any frame opens.
    onHeader: (found) => configured?.checkContext(found.header.context),
  });
  try {
    await transfer(input, [...progress.stages, envelopeDecoder(), decrypting], output, environment.signal);
  } finally {
    progress.stop();
  }
  const { header, unwrappedWith } = await decrypting.header;
  const plaintextBytes = output.written();
  await printResult(
    values,
    environment,
    output.toStdout,
    {
      command: "decrypt",
      output: output.name,
      plaintextBytes,
      envelopeBytes: bytesRead(input),
      messageId: header.messageId,
      context: header.context,
      keys: [{ provider: unwrappedWith.provider, keyId: unwrappedWith.keyId }],
    },
    `decrypted ${plaintextBytes} bytes with ${unwrappedWith.provider}:${unwrappedWith.keyId}${Object.keys(header.context).length > 0 ? ` (context ${formatContext(header.context)})` : ""}`,
  );
}
