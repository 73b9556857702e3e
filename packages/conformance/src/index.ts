export { type EnvelopeLayout, type FieldRange, fieldRange, layoutOf } from "./envelope-layout.js";
export {
  buildIfStale,
  createIsolatedInstall,
  type IsolatedInstallOptions,
  productionClosure,
  type RunIsolatedOptions,
  resolvePackageDir,
  runIsolated,
} from "./install-tree.js";
export {
  defaultManifestPath,
  fromHex,
  loadManifest,
  type NegativeVector,
  type PositiveVector,
  type VectorKey,
  type VectorManifest,
} from "./manifest.js";
export { applyMutation, type Mutation } from "./mutations.js";
export {
  type ConformanceCapabilities,
  type KekConformanceOptions,
  type KekPair,
  runKekConformance,
} from "./run-kek-conformance.js";
