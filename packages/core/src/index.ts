export { createKeyring, type DiscoveryOptions, type Keyring, type KeyringOptions } from "./keyring.js";
export { encrypt, type EncryptOptions } from "./encrypt.js";
export { decrypt, type DecryptOptions, type DecryptResult } from "./decrypt.js";
export { armor, dearmor, inspect, type EnvelopeInfo } from "./inspect.js";
export {
  EnvelopeError,
  ERROR_CODES,
  type ErrorCode,
  isEnvelopeError,
  toEnvelopeError,
  throwIfAborted,
  type UnwrapFailure,
} from "./errors.js";
export type { GeneratedDataKey, KekCallOptions, KeyEncryptionKey, WrappedKey } from "./kek.js";
export type { EncryptionContext } from "./format/context.js";
export type { WrappedKeyEntry } from "./format/header.js";
export { canonicalContextBytes, checkExpectedContext } from "./context.js";
export { DEFAULT_LIMITS, type Limits } from "./limits.js";
export { DEFAULT_FRAME_LENGTH, DEK_LENGTH, FORMAT_VERSION } from "./format/constants.js";
export {
  createKeyUriRegistry,
  KNOWN_PROVIDER_PACKAGES,
  type KeyUriOpenOptions,
  type KeyUriProvider,
  type KeyUriRegistry,
  parseKeyList,
  parseKeyUri,
} from "./registry.js";
export { createKeyringFromUris } from "./keyring-from-uris.js";
export {
  decryptStream,
  decryptWebStream,
  type DecryptStreamHeader,
  type DecryptStreamOptions,
  encryptStream,
  encryptWebStream,
  type EncryptStreamOptions,
  type HeaderPromise,
} from "./stream/streams.js";
export {
  type RewrapChanges,
  type RewrapOptions,
  type RewrapReport,
  type RewrapResult,
  rewrap,
  type WrappedKeyId,
} from "./rewrap.js";
export { type ReportPromise, rewrapStream, rewrapWebStream } from "./stream/streams.js";
