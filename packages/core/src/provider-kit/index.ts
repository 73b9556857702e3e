/**
 * The provider kit: what every KMS provider needs and core owns, so each
 * provider is a factory, wrap/unwrap, a URI opener and an error table.
 * docs/adding-a-provider.md shows it in use.
 */
export { rsaOaepWrap } from "../crypto/rsa-oaep.js";
export {
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  type SameKey,
} from "./checks.js";
export { type ClientSettingsCheck, checkClientSettings } from "./client-settings.js";
export {
  httpStatusFailure,
  type KmsErrorTable,
  type KmsFailure,
  networkErrorCode,
} from "./error-table.js";
export {
  createKmsCaller,
  type KmsCall,
  type KmsCallerOptions,
  kmsError,
} from "./kms-call.js";
export {
  isLoopbackUrl,
  type OptionKind,
  type OptionKindFor,
  type OptionKinds,
  type OptionSpec,
  type OptionSpecFor,
  type OptionsOf,
  readOpenOptions,
} from "./open-options.js";
export { createOwnedClient, type OwnedClient } from "./owned-client.js";
export { createPromiseCache, type PromiseCache, type PromiseCacheOptions } from "./promise-cache.js";
export { parseRetryAfter } from "./retry-after.js";
export { stripRequestData } from "./strip-cause.js";
export { abortSignalOption, untilAborted } from "./until-aborted.js";
export {
  readUriParameters,
  type UriParameterKind,
  type UriParameterSpec,
  type UriParametersOf,
} from "./uri-parameters.js";
