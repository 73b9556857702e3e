import {
  type ConfiguredKeyring,
  keyringFromConfig,
  keyringFromKeys,
  type LoadedConfig,
  loadConfig,
  parseKeySpecs,
  selectProfile,
} from "@kms-envelope/config";
import {
  createKeyring,
  EnvelopeError,
  isEnvelopeError,
  type KeyEncryptionKey,
  type Keyring,
  parseKeyUri,
} from "@kms-envelope/core";
import { defaultKeystorePath, type Keystore, openKeystore } from "@kms-envelope/local";
import type { CliEnvironment } from "./cli-environment.js";
import { CLOUD_PROVIDER_PACKAGES, createCliRegistry } from "./providers.js";

/** Options naming keys, shared by encrypt, decrypt and rewrap. */
export const KEY_OPTIONS = {
  key: {
    type: "string",
    multiple: true,
    short: "k",
    value: "URI",
    help: "a key URI (repeatable; encrypt: the first is the primary; decrypt:URI is decrypt-only)",
  },
  profile: {
    type: "string",
    value: "NAME",
    help: "the config file's profile to use (default: KMS_ENVELOPE_PROFILE, a path rule, or the default)",
  },
  config: {
    type: "string",
    value: "FILE",
    help: "the config file (default: KMS_ENVELOPE_CONFIG, else kms-envelope.yaml searched upward)",
  },
  keystore: {
    type: "string",
    value: "PATH",
    help: "the local keystore (default: the profile's, else KMS_ENVELOPE_KEYSTORE, else ~/.config/kms-envelope/keystore.json)",
  },
} as const;

export interface KeySelection {
  /** `--key` values, in order. */
  readonly flags: readonly string[];
  readonly keystore?: string | undefined;
  readonly profile?: string | undefined;
  readonly config?: string | undefined;
  /** The input file, for the config's path rules. */
  readonly filePath?: string | undefined;
}

export interface ResolvedKeys {
  readonly keyring: Keyring;
  readonly keystore: Keystore;
  /** The profile's context rules, when keys came from a config file or a key list. */
  readonly configured: ConfiguredKeyring | undefined;
  /** Where the keys came from, for messages. */
  readonly source: string;
}

/** Each URI once, in first-seen order: a repeated `--key` must not wrap the DEK twice. */
export function uniqueUris(uris: readonly string[]): string[] {
  return [...new Set(uris.map((uri) => uri.trim()).filter((uri) => uri.length > 0))];
}

/** `--keystore`, else `KMS_ENVELOPE_KEYSTORE`, else the default path. */
export function cliKeystore(flag: string | undefined, env: NodeJS.ProcessEnv): Keystore {
  return openKeystore({ path: flag ?? defaultKeystorePath(env) });
}

/**
 * Reads the keystore before any local key is used, so a missing key names
 * the file it was looked for in, and an unreadable keystore is
 * `KEYSTORE_ERROR` on every command (not a `NO_USABLE_KEY` on decrypt).
 */
function checkLocalKeys(uris: readonly string[], keystore: Keystore): void {
  for (const uri of uris) {
    const { scheme, location } = parseKeyUri(uri);
    if (scheme !== "local") continue;
    const name = location.replace(/\/+$/, "");
    try {
      keystore.get(name);
    } catch (error) {
      if (isEnvelopeError(error, "KEY_NOT_FOUND")) {
        throw new EnvelopeError(
          "KEY_NOT_FOUND",
          `no key named "${name}" in the keystore ${keystore.path} (create it with \`kms-envelope keys create ${name}\`, or point --keystore / KMS_ENVELOPE_KEYSTORE at the right file)`,
        );
      }
      throw error;
    }
  }
}

/** A provider that is not installed: how to install it beside the CLI. */
function withInstallHint(error: unknown): unknown {
  if (!isEnvelopeError(error, "PROVIDER_NOT_INSTALLED") || error.message.includes("failed to load"))
    return error;
  const pkg = Object.values(CLOUD_PROVIDER_PACKAGES).find((name) => error.message.includes(name));
  if (pkg === undefined) return error;
  return new EnvelopeError(
    "PROVIDER_NOT_INSTALLED",
    `${error.message.replace(/: install it and register its provider with the registry$/, "")}: install it beside the CLI (npm i -g @kms-envelope/cli ${pkg})`,
  );
}

const schemesOf = (uris: readonly string[]) => uris.map((uri) => parseKeyUri(uri).scheme);

async function fromConfig(config: LoadedConfig, selection: KeySelection, environment: CliEnvironment) {
  const selectOptions = {
    profile: selection.profile,
    filePath: selection.filePath,
    cwd: environment.cwd,
    env: environment.env,
  };
  const { name, profile } = selectProfile(config, selectOptions);
  const keystore = cliKeystore(selection.keystore ?? profile.providers.local?.keystore, environment.env);
  checkLocalKeys([...profile.encrypt, ...profile.decrypt], keystore);
  const registry = await createCliRegistry([
    ...schemesOf(profile.encrypt),
    ...schemesOf(profile.decrypt),
    ...Object.keys(profile.discovery ?? {}),
  ]);
  const configured = await keyringFromConfig({
    config,
    registry,
    ...selectOptions,
    providerOptions: { local: { keystore } },
  });
  return { keyring: configured.keyring, keystore, configured, source: `profile "${name}" of ${config.file}` };
}

async function fromKeyList(
  keys: readonly string[] | string,
  keystore: Keystore,
  source: string,
): Promise<ResolvedKeys> {
  const specs = parseKeySpecs(keys);
  checkLocalKeys([...specs.encrypt, ...specs.decrypt], keystore);
  const registry = await createCliRegistry([...schemesOf(specs.encrypt), ...schemesOf(specs.decrypt)]);
  const configured = await keyringFromKeys({ keys, registry, providerOptions: { local: { keystore } } });
  return { keyring: dedupe(configured.keyring), keystore, configured, source };
}

/** Two URIs naming one key (say an alias and its ARN) wrap once. */
function dedupe(keyring: Keyring): Keyring {
  if (keyring.primary === undefined) return keyring;
  const seen = new Set<string>();
  const id = (kek: KeyEncryptionKey) => `${kek.provider}\u0000${kek.keyId}`;
  seen.add(id(keyring.primary));
  const extra = keyring.extra.filter((kek) => !seen.has(id(kek)) && seen.add(id(kek)) !== undefined);
  if (extra.length === keyring.extra.length) return keyring;
  const decryptOnly = keyring.allowed.slice(1 + keyring.extra.length);
  return createKeyring({ primary: keyring.primary, extra, decryptOnly, discovery: keyring.discovery });
}

/**
 * The keys for a command, first that applies: `--key` flags; the config
 * file named by `--config` (or found, with `--profile`); `KMS_ENVELOPE_KEYS`;
 * a config file from `KMS_ENVELOPE_CONFIG`, found upward, or in the user
 * config directory; and for decrypt (`allowLocalDiscovery`) only the local
 * keystore's own keys.
 */
export async function resolveKeys(
  selection: KeySelection,
  environment: CliEnvironment,
  allowLocalDiscovery: boolean,
): Promise<ResolvedKeys> {
  try {
    const flags = uniqueUris(selection.flags);
    if (flags.length > 0) {
      if (selection.profile !== undefined || selection.config !== undefined) {
        throw new EnvelopeError(
          "INVALID_ARGUMENT",
          "--key names the keys itself: drop --profile/--config, or drop --key",
        );
      }
      return await fromKeyList(flags, cliKeystore(selection.keystore, environment.env), "--key");
    }
    const keystore = () => cliKeystore(selection.keystore, environment.env);
    const explicit = selection.config !== undefined || selection.profile !== undefined;
    const fromEnv = environment.env.KMS_ENVELOPE_KEYS ?? "";
    // A key list in the environment is more specific than a config file found by search.
    if (!explicit && fromEnv.trim().length > 0)
      return await fromKeyList(fromEnv, keystore(), "KMS_ENVELOPE_KEYS");
    const config = await loadConfig({ path: selection.config, cwd: environment.cwd, env: environment.env });
    if (config !== undefined) return await fromConfig(config, selection, environment);
    if (selection.profile !== undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `--profile ${selection.profile}: no config file found (--config, KMS_ENVELOPE_CONFIG, kms-envelope.yaml upward from ${environment.cwd}, or the user config directory)`,
      );
    }
    if (!allowLocalDiscovery) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "no key: pass --key URI, use a config profile, or set KMS_ENVELOPE_KEYS",
      );
    }
    const local = keystore();
    local.list(); // an unreadable keystore is KEYSTORE_ERROR here, before any envelope is read
    const keyring = createKeyring({
      discovery: {
        filter: (entry) => entry.provider === "local",
        open: (entry) => local.kek(entry.keyId),
      },
    });
    return { keyring, keystore: local, configured: undefined, source: `the local keystore ${local.path}` };
  } catch (error) {
    throw withInstallHint(error);
  }
}

/** The `--key`/`--profile`/`--config`/`--keystore` values of a parsed command. */
export function keySelection(
  values: Readonly<Record<string, unknown>>,
  filePath: string | undefined,
): KeySelection {
  const str = (name: string) => (typeof values[name] === "string" ? (values[name] as string) : undefined);
  return {
    flags: Array.isArray(values.key) ? (values.key as string[]) : [],
    keystore: str("keystore"),
    profile: str("profile"),
    config: str("config"),
    filePath: filePath === "-" ? undefined : filePath,
  };
}

/** Opens each URI (rewrap's `--to`/`--remove`) with the providers it needs; the keystore serves `local://`. */
export async function openKeks(uris: readonly string[], keystore: Keystore): Promise<KeyEncryptionKey[]> {
  try {
    checkLocalKeys(uris, keystore);
    const registry = await createCliRegistry(schemesOf(uris));
    return await Promise.all(uris.map((uri) => registry.open(uri, { local: { keystore } })));
  } catch (error) {
    throw withInstallHint(error);
  }
}
