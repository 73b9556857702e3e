/**
 * Deterministic sealing for test vectors and conformance suites: the caller
 * supplies the DEK, message id and randomness. Never use it to encrypt data:
 * reusing a message id with a DEK repeats nonces.
 */
export { prepareMessage, sealMessage, sealHeader, type MessageMaterials } from "./encrypt.js";
export { type RandomSource, secureRandom } from "./crypto/random.js";
export { freezeContext } from "./context.js";
