import type { Readable, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { EnvelopeError, isEnvelopeError } from "@kms-envelope/core";
import { BrokenPipe, CliIoError, errnoText, isBrokenPipe } from "../cli-errors.js";
import type { InputSource } from "./input.js";
import type { OutputTarget } from "./output.js";
import { youngCollector } from "./young-collector.js";

// biome-ignore lint/suspicious/noExplicitAny: pipeline stages are heterogeneous by design
export type Stage = any;

function isErrno(error: unknown): error is NodeJS.ErrnoException {
  return (
    typeof (error as NodeJS.ErrnoException | undefined)?.code === "string" &&
    /^E[A-Z]+$/.test((error as NodeJS.ErrnoException).code!)
  );
}

/**
 * Streams `input` through `stages` into `output`, then commits the output
 * (rename into place). On any failure the output is aborted (temp file
 * removed, nothing renamed) and the error becomes one a person can act on.
 */
export async function transfer(
  input: InputSource,
  stages: readonly Stage[],
  output: OutputTarget,
  signal: AbortSignal,
): Promise<void> {
  let failedSide: "read" | "write" | undefined;
  const mark = (side: "read" | "write") => () => {
    failedSide ??= side;
  };
  input.stream.once("error", mark("read"));
  output.stream.once("error", mark("write"));
  try {
    const flowing = pipeline([input.stream as Readable, ...stages, output.stream as Writable], { signal });
    // Beside the pipeline's own listener (attached above): frees each chunk's garbage while it is young.
    const collect = youngCollector();
    input.stream.on("data", (chunk: Buffer) => collect(chunk.length));
    await flowing;
    await output.commit();
  } catch (error) {
    await output.abort();
    throw explain(error, failedSide, input, output, signal);
  }
}

function explain(
  error: unknown,
  side: "read" | "write" | undefined,
  input: InputSource,
  output: OutputTarget,
  signal: AbortSignal,
): unknown {
  if (signal.aborted)
    return new EnvelopeError("ABORTED", "interrupted: nothing was written under the output's name");
  if (isEnvelopeError(error) || error instanceof CliIoError) return error;
  if (isBrokenPipe(error) && output.toStdout) return new BrokenPipe();
  if (isErrno(error)) {
    return side === "read"
      ? new CliIoError(`cannot read ${input.name}: ${errnoText(error)}`)
      : new CliIoError(`cannot write ${output.name}: ${errnoText(error)}`);
  }
  return error;
}
