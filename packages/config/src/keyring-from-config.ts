import {
  createKeyring,
  type DataKeyCache,
  type EncryptionContext,
  EnvelopeError,
  isEnvelopeError,
  type KeyEncryptionKey,
  type Keyring,
  type KeyringEconomyOptions,
  type KeyUriOpenOptions,
  type KeyUriRegistry,
  parseKeyUri,
} from "@kms-envelope/core";
import { describeProfile, describeSelection, type KeyringDescription } from "./describe.js";
import { discoveryFromFilters } from "./discovery.js";
import { type CodeEconomyOptions, economyFor } from "./economy.js";
import { parseKeySpecs } from "./key-specs.js";
import { checkRequiredContext } from "./required-context.js";
import { type SelectProfileOptions, selectProfile } from "./select.js";
import type { Env, LoadedConfig, ProfileConfig, ProviderSettings, RequiredContextKey } from "./types.js";

/**
 * Code-only options per scheme (an SDK client, a credential object, an open
 * keystore), merged over the file's settings for that scheme. Typed loosely
 * on purpose: each provider package exports its own option type.
 */
export type CodeProviderOptions = Readonly<Record<string, KeyUriOpenOptions>>;

export interface ConfiguredKeyring {
  readonly keyring: Keyring;
  /**
   * The data-key cache made from the profile's `cache` section (or the one
   * the program passed); dispose it when done with the keyring, to zero what
   * it holds at once.
   */
  readonly cache: DataKeyCache | undefined;
  /** Context defaults for encrypt. */
  readonly context: Readonly<Record<string, string>>;
  readonly requireContext: readonly RequiredContextKey[];
  /** The encrypt context: the defaults with `context` over them (the caller's values win). */
  contextFor(context?: EncryptionContext): EncryptionContext;
  /** `CONTEXT_MISMATCH` unless an envelope's context holds the required keys (and pinned values). */
  checkContext(context: EncryptionContext): void;
  readonly description: KeyringDescription;
}

export interface KeyringFromConfigOptions extends SelectProfileOptions, CodeEconomyOptions {
  config: LoadedConfig;
  registry: KeyUriRegistry;
  providerOptions?: CodeProviderOptions | undefined;
}

/**
 * The selected profile's keyring (see `selectProfile`): `encrypt` keys wrap
 * (the first is the primary), `decrypt` keys only unwrap, `discovery` (when
 * set) opens other keys its filters accept; plus the profile's context rules
 * and a description of where it all came from. An unregistered scheme is
 * `PROVIDER_NOT_INSTALLED` naming the package, and any opener error keeps its
 * code with the file, line and column of the URI in front.
 */
export async function keyringFromConfig(options: KeyringFromConfigOptions): Promise<ConfiguredKeyring> {
  if (options === null || typeof options !== "object" || options.config === undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "keyringFromConfig needs { config, registry }");
  }
  checkRegistry(options.registry);
  const { config } = options;
  const selected = selectProfile(config, options);
  const profile = selected.profile;
  const path = `profiles.${selected.name}`;
  const where = (list: "encrypt" | "decrypt", index: number) => {
    const at = config.locations.get(`${path}.${list}[${index}]`);
    return at === undefined ? config.file : `${config.file}:${at.line}:${at.column}`;
  };
  const economy = economyFor(profile, options);
  const keyring = await buildKeyring(
    profile,
    options.registry,
    options.providerOptions,
    where,
    economy.options,
  );
  return configured(keyring, economy.cache, profile, describeSelection(config, selected));
}

export interface KeyringFromKeysOptions {
  /** A key list (`decrypt:` marks decrypt-only keys, see `parseKeySpecs`); `KMS_ENVELOPE_KEYS` when absent. */
  keys?: string | readonly string[] | undefined;
  /** `process.env` by default. */
  env?: Env | undefined;
  registry: KeyUriRegistry;
  providerOptions?: CodeProviderOptions | undefined;
}

/**
 * The env-only (or command-line) path: a keyring from a key list, with no
 * context rules. `keys`, else `KMS_ENVELOPE_KEYS`; `INVALID_ARGUMENT` when
 * neither names a key.
 */
export async function keyringFromKeys(options: KeyringFromKeysOptions): Promise<ConfiguredKeyring> {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "keyringFromKeys needs { registry }");
  }
  checkRegistry(options.registry);
  const keys = options.keys ?? (options.env ?? process.env).KMS_ENVELOPE_KEYS ?? "";
  const specs = parseKeySpecs(keys);
  if (specs.encrypt.length === 0 && specs.decrypt.length === 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "no key given (KMS_ENVELOPE_KEYS is empty or unset)");
  }
  const profile: ProfileConfig = {
    encrypt: [...specs.encrypt],
    decrypt: [...specs.decrypt],
    context: {},
    requireContext: [],
    providers: {},
  };
  const keyring = await buildKeyring(profile, options.registry, options.providerOptions, () => "key list");
  return configured(keyring, undefined, profile, { source: "keys", ...describeProfile(profile) });
}

/** The options each scheme's opener gets: the file's settings with code-only options over them. */
export function providerOptionsFor(
  settings: ProviderSettings,
  code: CodeProviderOptions = {},
): Record<string, KeyUriOpenOptions> {
  const merged: Record<string, KeyUriOpenOptions> = Object.create(null);
  const fromFile = settings as Readonly<Record<string, KeyUriOpenOptions | undefined>>;
  for (const scheme of new Set([...Object.keys(fromFile), ...Object.keys(code)])) {
    merged[scheme] = Object.freeze({ ...fromFile[scheme], ...code[scheme] });
  }
  return merged;
}

async function buildKeyring(
  profile: ProfileConfig,
  registry: KeyUriRegistry,
  code: CodeProviderOptions | undefined,
  where: (list: "encrypt" | "decrypt", index: number) => string,
  economy: KeyringEconomyOptions = {},
): Promise<Keyring> {
  const providerOptions = providerOptionsFor(profile.providers, code);
  const openOne = async (
    list: "encrypt" | "decrypt",
    uri: string,
    index: number,
  ): Promise<KeyEncryptionKey> => {
    try {
      return await registry.open(uri, providerOptions);
    } catch (error) {
      if (!isEnvelopeError(error)) throw error;
      throw new EnvelopeError(error.code, `${where(list, index)}: ${uri}: ${error.message}`, {
        cause: error,
      });
    }
  };
  // Missing providers first, in file order, before any key is opened: the
  // first such URI is the error, whatever the openers would have done.
  for (const list of ["encrypt", "decrypt"] as const) {
    for (const [index, uri] of profile[list].entries()) {
      if (!registry.has(parseKeyUri(uri).scheme)) await openOne(list, uri, index);
    }
  }
  const settled = await Promise.allSettled([
    ...profile.encrypt.map((uri, index) => openOne("encrypt", uri, index)),
    ...profile.decrypt.map((uri, index) => openOne("decrypt", uri, index)),
  ]);
  const failed = settled.find((result) => result.status === "rejected");
  const keks = settled.flatMap((result) => (result.status === "fulfilled" ? [result.value] : []));
  if (failed !== undefined) {
    // The keys that did open hold channels and sockets: release them before reporting the first failure.
    await Promise.allSettled(keks.map((kek) => kek.close?.()));
    throw failed.reason;
  }
  const [primary, ...extra] = keks.slice(0, profile.encrypt.length);
  const decryptOnly = keks.slice(profile.encrypt.length);
  return createKeyring({
    ...economy,
    primary,
    extra,
    decryptOnly,
    discovery:
      profile.discovery === undefined
        ? undefined
        : discoveryFromFilters(profile.discovery, registry, providerOptions),
  });
}

function configured(
  keyring: Keyring,
  cache: DataKeyCache | undefined,
  profile: ProfileConfig,
  description: KeyringDescription,
): ConfiguredKeyring {
  const defaults = Object.freeze({ ...profile.context });
  const required = Object.freeze([...profile.requireContext]);
  return Object.freeze({
    keyring,
    cache,
    context: defaults,
    requireContext: required,
    contextFor(context: EncryptionContext = {}) {
      if (context === null || typeof context !== "object") {
        throw new EnvelopeError("INVALID_ARGUMENT", "the context must be an object of strings");
      }
      return { ...defaults, ...context };
    },
    checkContext: (context: EncryptionContext) => checkRequiredContext(context, required),
    description: Object.freeze(description),
  });
}

function checkRegistry(registry: KeyUriRegistry | undefined): void {
  if (registry === null || typeof registry !== "object" || typeof registry.open !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "a key-URI registry is needed (createKeyUriRegistry)");
  }
}
