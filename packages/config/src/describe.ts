import { EnvelopeError, type KeyUriRegistry, KNOWN_PROVIDER_PACKAGES, parseKeyUri } from "@kms-envelope/core";
import {
  type ProfileChosenBy,
  type SelectedProfile,
  type SelectProfileOptions,
  selectProfile,
} from "./select.js";
import type {
  CacheSettings,
  ConfigFoundBy,
  DiscoveryFilters,
  LimitSettings,
  LoadedConfig,
  ProfileConfig,
  ProviderSettings,
  RequiredContextKey,
} from "./types.js";

/**
 * Where a keyring came from, for showing a configuration and for logs. A config file holds
 * no secrets (settings are data: paths, endpoints, names), and code-only
 * options (clients, credential objects) are never part of it.
 */
export interface KeyringDescription {
  readonly source: "config" | "keys";
  readonly file?: string;
  readonly foundBy?: ConfigFoundBy;
  readonly profile?: string;
  readonly chosenBy?: ProfileChosenBy;
  readonly rule?: { readonly index: number; readonly pattern: string; readonly kind: "glob" | "regex" };
  readonly encrypt: readonly string[];
  readonly decrypt: readonly string[];
  readonly context: Readonly<Record<string, string>>;
  readonly requireContext: readonly RequiredContextKey[];
  readonly discovery?: DiscoveryFilters;
  readonly providers: ProviderSettings;
  readonly cache?: CacheSettings;
  readonly limits?: LimitSettings;
}

export function describeProfile(profile: ProfileConfig) {
  return {
    encrypt: profile.encrypt,
    decrypt: profile.decrypt,
    context: profile.context,
    requireContext: profile.requireContext,
    ...(profile.discovery === undefined ? {} : { discovery: profile.discovery }),
    providers: profile.providers,
    ...(profile.cache === undefined ? {} : { cache: profile.cache }),
    ...(profile.limits === undefined ? {} : { limits: profile.limits }),
  };
}

export function describeSelection(config: LoadedConfig, selected: SelectedProfile): KeyringDescription {
  return {
    source: "config",
    file: config.file,
    foundBy: config.foundBy,
    profile: selected.name,
    chosenBy: selected.chosenBy,
    ...(selected.rule === undefined ? {} : { rule: selected.rule }),
    ...describeProfile(selected.profile),
  };
}

/**
 * For showing a configuration: the profile `selectProfile` picks and where it
 * came from, without opening any key (no credentials needed).
 */
export function describeConfig(config: LoadedConfig, options: SelectProfileOptions = {}): KeyringDescription {
  return describeSelection(config, selectProfile(config, options));
}

/**
 * For checking a configuration beyond parsing (which `loadConfig` already
 * did): every key URI, in every profile, whose provider the registry lacks,
 * as `PROVIDER_NOT_INSTALLED` errors naming the package and the URI's file,
 * line and column, in file order. Empty when every provider is installed.
 * Opens no key.
 */
export function checkConfig(config: LoadedConfig, registry: KeyUriRegistry): EnvelopeError[] {
  if (config === null || typeof config !== "object" || typeof config.profiles !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "checkConfig needs a loaded config");
  }
  if (registry === null || typeof registry !== "object" || typeof registry.has !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "checkConfig needs a key-URI registry");
  }
  const problems: { error: EnvelopeError; line: number; column: number }[] = [];
  for (const [name, profile] of Object.entries(config.profiles)) {
    for (const list of ["encrypt", "decrypt"] as const) {
      profile[list].forEach((uri, index) => {
        const { scheme } = parseKeyUri(uri);
        if (registry.has(scheme)) return;
        const at = config.locations.get(`profiles.${name}.${list}[${index}]`);
        const where = at === undefined ? config.file : `${config.file}:${at.line}:${at.column}`;
        const known = KNOWN_PROVIDER_PACKAGES[scheme];
        const error =
          known === undefined
            ? new EnvelopeError("INVALID_ARGUMENT", `${where}: ${uri}: unknown key URI scheme "${scheme}://"`)
            : new EnvelopeError(
                "PROVIDER_NOT_INSTALLED",
                `${where}: ${uri}: "${scheme}://" keys need ${known}`,
              );
        problems.push({ error, line: at?.line ?? 0, column: at?.column ?? 0 });
      });
    }
  }
  return problems.sort((a, b) => a.line - b.line || a.column - b.column).map((problem) => problem.error);
}
