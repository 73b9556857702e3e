import { EnvelopeError } from "../errors.js";
import type { ChunkProcessor } from "./processor.js";

function abortError(signal: AbortSignal): EnvelopeError {
  return new EnvelopeError("ABORTED", "the operation was aborted", { cause: signal.reason });
}

/**
 * A Web `TransformStream` driving `processor`. Back-pressure is the
 * stream's own (a chunk is transformed only when the readable side wants
 * more); an abort errors both sides and disposes the processor.
 */
export function toWebTransform(
  processor: ChunkProcessor,
  signal: AbortSignal | undefined,
): TransformStream<Uint8Array, Uint8Array> {
  let onAbort: (() => void) | undefined;
  let disposed = false;
  const dispose = (error?: unknown) => {
    if (disposed) return;
    disposed = true;
    if (onAbort !== undefined) signal?.removeEventListener("abort", onAbort);
    processor.dispose(error);
  };
  const guard = async <T>(work: () => T | Promise<T>): Promise<T> => {
    try {
      if (signal?.aborted) throw abortError(signal);
      return await work();
    } catch (error) {
      dispose(error);
      throw error;
    }
  };
  return new TransformStream<Uint8Array, Uint8Array>({
    start(controller) {
      if (signal !== undefined && !signal.aborted) {
        onAbort = () => {
          const error = abortError(signal);
          controller.error(error);
          dispose(error);
        };
        signal.addEventListener("abort", onAbort, { once: true });
      }
      return guard(() => processor.start?.());
    },
    transform(chunk, controller) {
      return guard(() => {
        if (!(chunk instanceof Uint8Array)) {
          throw new EnvelopeError("INVALID_ARGUMENT", "stream chunks must be Uint8Arrays");
        }
        return processor.push(chunk, (part) => controller.enqueue(part));
      });
    },
    flush(controller) {
      return guard(async () => {
        await processor.finish((part) => controller.enqueue(part));
        dispose();
      });
    },
    cancel(reason) {
      dispose(reason);
    },
  });
}
