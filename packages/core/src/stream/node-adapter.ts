import { Transform } from "node:stream";
import { EnvelopeError } from "../errors.js";
import type { ChunkProcessor } from "./processor.js";

function abortError(signal: AbortSignal): EnvelopeError {
  return new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
}

function settle(result: void | Promise<void>, callback: (error?: Error | null) => void): void {
  if (result instanceof Promise) result.then(() => callback(), callback);
  else callback();
}

/**
 * A Node `Transform` driving `processor`. Back-pressure is the Transform's
 * own: the next chunk is not processed while the readable side is full. An
 * abort, an error or `destroy()` disposes the processor (keys zeroed).
 */
export function toNodeTransform(processor: ChunkProcessor, signal: AbortSignal | undefined): Transform {
  let onAbort: (() => void) | undefined;
  const transform = new Transform({
    construct(callback) {
      if (signal?.aborted) return callback(abortError(signal));
      if (processor.start === undefined) return callback();
      processor.start().then(() => callback(), callback);
    },
    transform(chunk: Buffer, _encoding, callback) {
      try {
        settle(
          processor.push(chunk, (part) => this.push(part)),
          callback,
        );
      } catch (error) {
        callback(error as Error);
      }
    },
    flush(callback) {
      try {
        settle(
          processor.finish((part) => this.push(part)),
          callback,
        );
      } catch (error) {
        callback(error as Error);
      }
    },
    destroy(error, callback) {
      if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
      processor.dispose(error ?? undefined);
      callback(error);
    },
  });
  if (signal !== undefined && !signal.aborted) {
    onAbort = () => transform.destroy(abortError(signal));
    signal.addEventListener("abort", onAbort, { once: true });
  }
  // Dispose as soon as the stream has ended cleanly too, not only on destroy.
  transform.once("end", () => processor.dispose());
  return transform;
}
