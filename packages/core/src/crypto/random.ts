import { randomFillSync } from "node:crypto";

/** Fills `target` with random bytes. Tests and vector generation inject a fixed source. */
export type RandomSource = (target: Uint8Array) => void;

export const secureRandom: RandomSource = (target) => {
  randomFillSync(target);
};

export function randomBytes(length: number, random: RandomSource = secureRandom): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(length);
  random(out);
  return out;
}
