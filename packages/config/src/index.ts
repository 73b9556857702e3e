export { checkConfig, describeConfig, type KeyringDescription } from "./describe.js";
export { discoveryAccepts, discoveryFromFilters } from "./discovery.js";
export type { CodeEconomyOptions } from "./economy.js";
export { configJsonSchema } from "./json-schema.js";
export { DECRYPT_ONLY_PREFIX, type KeySpecs, parseKeySpecs } from "./key-specs.js";
export {
  type CodeProviderOptions,
  type ConfiguredKeyring,
  type KeyringFromConfigOptions,
  type KeyringFromKeysOptions,
  keyringFromConfig,
  keyringFromKeys,
  providerOptionsFor,
} from "./keyring-from-config.js";
export {
  CONFIG_FILE_NAMES,
  type FoundConfigFile,
  findConfigFile,
  type LoadConfigOptions,
  loadConfig,
  userConfigDir,
} from "./load.js";
export { type ParseConfigOptions, parseConfig } from "./parse.js";
export { checkRequiredContext } from "./required-context.js";
export {
  type ProfileChosenBy,
  type SelectedProfile,
  type SelectProfileOptions,
  selectProfile,
} from "./select.js";
export type {
  AwsKmsSettings,
  AzureKeyVaultSettings,
  CacheSettings,
  ConfigFoundBy,
  DiscoveryFilters,
  Env,
  GcpKmsSettings,
  LimitSettings,
  LoadedConfig,
  LocalSettings,
  PathRule,
  ProfileConfig,
  ProviderSettings,
  RequiredContextKey,
  VaultTransitSettings,
} from "./types.js";
export type { LocationMap, SourceLocation } from "./validate.js";
