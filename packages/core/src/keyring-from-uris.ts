import type { KeyringEconomyOptions } from "./economy/keyring-economy.js";
import { EnvelopeError } from "./errors.js";
import { createKeyring, type DiscoveryOptions, type Keyring } from "./keyring.js";
import type { KeyUriOpenOptions, KeyUriRegistry } from "./registry.js";
import { invalid, optionalObject, requireArray, requireObject } from "./validate.js";

/** Besides the registry: the keyring's KMS-economy options (cache, kms policy, onEvent), passed through. */
export interface KeyringFromUrisOptions extends KeyringEconomyOptions {
  registry: KeyUriRegistry;
  /** Per-scheme options passed to each provider's opener (clients, keystore path…). */
  providerOptions?: Readonly<Record<string, KeyUriOpenOptions>> | undefined;
  discovery?: DiscoveryOptions | undefined;
}

/** A keyring from key URIs: the first is the primary, the rest are extras. */
export async function createKeyringFromUris(
  uris: readonly string[],
  options: KeyringFromUrisOptions,
): Promise<Keyring> {
  const where = "createKeyringFromUris";
  for (const uri of requireArray(uris, where, "uris")) {
    if (typeof uri !== "string") invalid(where, "uris must be strings");
  }
  requireObject(options, where);
  if (typeof (options.registry as { open?: unknown } | undefined)?.open !== "function") {
    invalid(where, "registry must be a key-URI registry (see createKeyUriRegistry)");
  }
  optionalObject(options.providerOptions, where, "providerOptions");
  if (uris.length === 0 && options.discovery === undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "at least one key URI is needed");
  }
  const keks = await Promise.all(uris.map((uri) => options.registry.open(uri, options.providerOptions)));
  const [primary, ...extra] = keks;
  const { cache, cachePartition, kms, onEvent } = options;
  return createKeyring({ primary, extra, discovery: options.discovery, cache, cachePartition, kms, onEvent });
}
