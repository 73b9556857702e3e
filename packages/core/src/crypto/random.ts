import { randomFillSync } from "node:crypto";
import { EnvelopeError } from "../errors.js";

/** Fills `target` with random bytes. Tests and vector generation inject a fixed source. */
export type RandomSource = (target: Uint8Array) => void;

/**
 * Each `randomFillSync` call costs ~3 µs on Node 24 whatever its size up to a
 * few KiB, and a message needs three small draws (DEK, message id, the local
 * KEK's wrap nonce): ~9 µs of a ~50 µs message (docs/performance.md). So small
 * draws are served from a pool filled 4 KiB at a time (as Node's own
 * `randomUUID` does), and every byte handed out is zeroed in the pool at
 * once, so the pool never holds a key that has been used. Each thread has its
 * own pool (module state), and Node processes do not fork.
 */
const POOL_SIZE = 4096;
/** Draws above this go straight to the CSPRNG: the pool only pays off for small ones. */
const MAX_POOLED_DRAW = 256;
const pool = new Uint8Array(POOL_SIZE);
let poolOffset = POOL_SIZE;

export const secureRandom: RandomSource = (target) => {
  if (!(target instanceof Uint8Array)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "secureRandom: target must be a Uint8Array");
  }
  const length = target.length;
  if (length > MAX_POOLED_DRAW) {
    randomFillSync(target);
    return;
  }
  if (poolOffset + length > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const end = poolOffset + length;
  target.set(pool.subarray(poolOffset, end));
  pool.fill(0, poolOffset, end);
  poolOffset = end;
};

export function randomBytes(length: number, random: RandomSource = secureRandom): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  random(out);
  return out;
}
