import type { Emit } from "./body-sealer.js";

/**
 * What the Node and Web stream adapters drive: one envelope operation fed
 * chunk by chunk. `push` and `finish` may be async (a KMS call on the way);
 * the adapters never call the next step before the previous one settled.
 */
export interface ChunkProcessor {
  /** Work to do before the first chunk (encrypt: get and wrap the DEK). */
  start?(): Promise<void>;
  push(chunk: Uint8Array, emit: Emit): void | Promise<void>;
  finish(emit: Emit): void | Promise<void>;
  /** Zeroes keys and held plaintext; called once the stream ends, fails or is aborted. */
  dispose(error?: unknown): void;
}
