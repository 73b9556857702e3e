/**
 * Deterministic sealing for test vectors and conformance suites: the caller
 * supplies the DEK, message id and randomness. Never use it to encrypt data:
 * reusing a message id with a DEK repeats nonces.
 */

export { freezeContext } from "./context.js";
export { type RandomSource, secureRandom } from "./crypto/random.js";
export { type MessageMaterials, prepareMessage, sealHeader, sealMessage } from "./encrypt.js";
