import {
  createKeyring,
  EnvelopeError,
  isEnvelopeError,
  type KeyEncryptionKey,
  type Keyring,
  type KeyUriRegistry,
  parseKeyList,
  parseKeyUri,
} from "@kms-envelope/core";
import { defaultKeystorePath, type Keystore, openKeystore } from "@kms-envelope/local";
import { createCliRegistry } from "./providers.js";

/** `--keystore`, else `KMS_ENVELOPE_KEYSTORE`, else the default path. */
export function cliKeystore(flag: string | undefined, env: NodeJS.ProcessEnv): Keystore {
  return openKeystore({ path: flag ?? defaultKeystorePath(env) });
}

/** Each URI once, in first-seen order: a repeated `--key` must not wrap the DEK twice. */
export function uniqueUris(uris: readonly string[]): string[] {
  return [...new Set(uris.map((uri) => uri.trim()).filter((uri) => uri.length > 0))];
}

/** Key URIs from flags, else from `KMS_ENVELOPE_KEYS`. */
export function keyUrisFrom(flags: readonly string[], env: NodeJS.ProcessEnv): string[] {
  return uniqueUris(flags.length > 0 ? flags : parseKeyList(env.KMS_ENVELOPE_KEYS ?? ""));
}

/**
 * Reads the keystore once before any local key is used, so a missing key
 * names the file it was looked for in, and an unreadable keystore is
 * `KEYSTORE_ERROR` on every command (not a `NO_USABLE_KEY` on decrypt).
 */
export function checkLocalKeys(uris: readonly string[], keystore: Keystore): void {
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

/** Opens each URI with the providers it needs; the keystore serves `local://`. */
export async function openKeks(
  uris: readonly string[],
  keystore: Keystore,
  registry?: KeyUriRegistry,
): Promise<KeyEncryptionKey[]> {
  checkLocalKeys(uris, keystore);
  const chosen = registry ?? (await createCliRegistry(uris.map((uri) => parseKeyUri(uri).scheme)));
  const keks = await Promise.all(uris.map((uri) => chosen.open(uri, { local: { keystore } })));
  // Two URIs naming one key (an alias and its ARN, say) wrap once.
  const seen = new Set<string>();
  return keks.filter((kek) => {
    const id = `${kek.provider}\u0000${kek.keyId}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

export async function keyringFor(uris: readonly string[], keystore: Keystore): Promise<Keyring> {
  const [primary, ...extra] = await openKeks(uris, keystore);
  return createKeyring({ primary, extra });
}

/**
 * With no key named anywhere, decrypt may use only the local keystore's
 * keys: discovery limited to `local` entries, opened from that keystore.
 */
export async function localDiscoveryKeyring(keystore: Keystore): Promise<Keyring> {
  keystore.list(); // an unreadable keystore is KEYSTORE_ERROR here, before any envelope is read
  return createKeyring({
    discovery: {
      filter: (entry) => entry.provider === "local",
      open: (entry) => keystore.kek(entry.keyId),
    },
  });
}

/** Options naming keys, shared by encrypt, decrypt and rewrap. */
export const KEY_OPTIONS = {
  key: {
    type: "string",
    multiple: true,
    short: "k",
    value: "URI",
    help: "a key URI (repeatable; encrypt: the first is the primary); default: KMS_ENVELOPE_KEYS",
  },
  keystore: {
    type: "string",
    value: "PATH",
    help: "the local keystore (default: KMS_ENVELOPE_KEYSTORE, else ~/.config/kms-envelope/keystore.json)",
  },
} as const;

export interface ResolvedKeys {
  readonly keyring: Keyring;
  readonly keystore: Keystore;
  /** Where the keys came from, for messages. */
  readonly source: string;
}

/** The keys that wrap a new envelope: `--key`, else `KMS_ENVELOPE_KEYS`. */
export async function encryptKeys(
  flags: readonly string[],
  keystorePath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedKeys> {
  const keystore = cliKeystore(keystorePath, env);
  const uris = keyUrisFrom(flags, env);
  if (uris.length === 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "no key: pass --key URI or set KMS_ENVELOPE_KEYS");
  }
  return {
    keyring: await keyringFor(uris, keystore),
    keystore,
    source: flags.length > 0 ? "--key" : "KMS_ENVELOPE_KEYS",
  };
}

/**
 * The keys that may unwrap: `--key`, else `KMS_ENVELOPE_KEYS`, else only
 * the local keystore's own keys (discovery limited to `local://` entries).
 */
export async function decryptKeys(
  flags: readonly string[],
  keystorePath: string | undefined,
  env: NodeJS.ProcessEnv,
): Promise<ResolvedKeys> {
  const keystore = cliKeystore(keystorePath, env);
  const uris = keyUrisFrom(flags, env);
  if (uris.length === 0) {
    return {
      keyring: await localDiscoveryKeyring(keystore),
      keystore,
      source: `the local keystore ${keystore.path}`,
    };
  }
  return {
    keyring: await keyringFor(uris, keystore),
    keystore,
    source: flags.length > 0 ? "--key" : "KMS_ENVELOPE_KEYS",
  };
}
