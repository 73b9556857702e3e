export { canonicalContextBytes, checkExpectedContext } from "./context.js";
export { type RandomSource, secureRandom } from "./crypto/random.js";
export { type DecryptOptions, type DecryptResult, decrypt } from "./decrypt.js";
export * from "./economy/index.js";
export { type EncryptOptions, encrypt } from "./encrypt.js";
export {
  EnvelopeError,
  ERROR_CODES,
  type ErrorCode,
  isEnvelopeError,
  throwIfAborted,
  toEnvelopeError,
  type UnwrapFailure,
} from "./errors.js";
export { ArmorDecoder } from "./format/armor.js";
export { DEFAULT_FRAME_LENGTH, DEK_LENGTH, FORMAT_VERSION } from "./format/constants.js";
export type { EncryptionContext } from "./format/context.js";
export type { WrappedKeyEntry } from "./format/header.js";
export { armor, dearmor, type EnvelopeInfo, inspect } from "./inspect.js";
export type { GeneratedDataKey, KekCallOptions, KeyEncryptionKey, WrappedKey } from "./kek.js";
export { createKeyring, type DiscoveryOptions, type Keyring, type KeyringOptions } from "./keyring.js";
export { createKeyringFromUris } from "./keyring-from-uris.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export * from "./provider-kit/index.js";
export {
  createKeyUriRegistry,
  type KeyUriOpenOptions,
  type KeyUriProvider,
  type KeyUriRegistry,
  KNOWN_PROVIDER_PACKAGES,
  parseKeyList,
  parseKeyUri,
} from "./registry.js";
export {
  type RewrapChanges,
  type RewrapOptions,
  type RewrapReport,
  type RewrapResult,
  rewrap,
  type WrappedKeyId,
} from "./rewrap.js";
export {
  type DecryptStreamHeader,
  type DecryptStreamOptions,
  decryptStream,
  decryptWebStream,
  type EncryptStreamOptions,
  encryptStream,
  encryptWebStream,
  type HeaderPromise,
  type ReportPromise,
  rewrapStream,
  rewrapWebStream,
} from "./stream/streams.js";
