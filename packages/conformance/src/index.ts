export { runKekConformance, type ConformanceCapabilities, type KekConformanceOptions, type KekPair } from "./run-kek-conformance.js";
export { applyMutation, type Mutation } from "./mutations.js";
export { type EnvelopeLayout, type FieldRange, fieldRange, layoutOf } from "./envelope-layout.js";
export {
  defaultManifestPath,
  fromHex,
  loadManifest,
  type NegativeVector,
  type PositiveVector,
  type VectorKey,
  type VectorManifest,
} from "./manifest.js";
