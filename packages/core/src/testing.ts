/**
 * TEST-ONLY: `@kms-envelope/core/testing`. Deterministic sealing for test
 * vectors, conformance suites and benchmarks: the caller supplies the
 * randomness, hence the DEK and the message id. Never use it to encrypt
 * data: a message id reused with a DEK repeats every frame's nonce. The
 * production entry (`@kms-envelope/core`) has no way to choose either.
 */

export { freezeContext } from "./context.js";
export { type RandomSource, secureRandom } from "./crypto/random.js";
export { type MessageMaterials, prepareMessage, sealHeader, sealMessage } from "./encrypt.js";
