import {
  createKeyringEconomy,
  type KeyringEconomy,
  type KeyringEconomyOptions,
} from "./economy/keyring-economy.js";
import { EnvelopeError } from "./errors.js";
import type { WrappedKeyEntry } from "./format/header.js";
import { type KeyEncryptionKey, kekMatches } from "./kek.js";
import { invalid, isKekShaped, optionalArray, optionalObject, requireObject } from "./validate.js";

type EntryId = Pick<WrappedKeyEntry, "provider" | "keyId">;

/**
 * Discovery: unwrap with KEKs the keyring does not hold, named by the
 * envelope itself. Off unless given, and then only for entries the filter
 * accepts, so an attacker cannot point decrypt at a key of their choosing.
 */
export interface DiscoveryOptions {
  /** Must return true for every entry discovery may try. */
  filter(entry: EntryId): boolean;
  /** Opens a KEK for an accepted entry (for instance through a key-URI registry). */
  open(entry: EntryId): KeyEncryptionKey | Promise<KeyEncryptionKey>;
}

/** The KEKs, plus the opt-in KMS economy (cache, deadlines, limits, retries, events: docs/caching.md). */
export interface KeyringOptions extends KeyringEconomyOptions {
  /** Generates (or wraps) the DEK on encrypt. Optional for a decrypt-only keyring. */
  primary?: KeyEncryptionKey | undefined;
  /** Each also wraps the same DEK on encrypt (disaster recovery, other regions or clouds). */
  extra?: readonly KeyEncryptionKey[] | undefined;
  /** Only unwrap; never wrap new envelopes (old keys kept for reading). */
  decryptOnly?: readonly KeyEncryptionKey[] | undefined;
  discovery?: DiscoveryOptions | undefined;
}

export interface Keyring {
  readonly primary: KeyEncryptionKey | undefined;
  readonly extra: readonly KeyEncryptionKey[];
  /** Every KEK allowed to unwrap, in the order decrypt tries them. */
  readonly allowed: readonly KeyEncryptionKey[];
  readonly discovery: DiscoveryOptions | undefined;
  /** The KEKs that wrap on encrypt: the primary, then the extras. */
  readonly wrapping: readonly KeyEncryptionKey[];
  /**
   * Set when any KMS-economy option was given; then every member above is
   * the given KEK inside core's guard (same provider, key id and matching).
   */
  readonly economy: KeyringEconomy | undefined;
}

export function createKeyring(options: KeyringOptions): Keyring {
  requireObject(options, "createKeyring");
  optionalArray(options.extra, "createKeyring", "extra");
  optionalArray(options.decryptOnly, "createKeyring", "decryptOnly");
  if (options.discovery !== undefined) {
    const discovery = optionalObject(options.discovery, "createKeyring", "discovery");
    if (typeof discovery.filter !== "function" || typeof discovery.open !== "function") {
      invalid("createKeyring", "discovery needs filter and open functions");
    }
  }
  const extra = [...(options.extra ?? [])];
  const decryptOnly = [...(options.decryptOnly ?? [])];
  if (options.primary === undefined && extra.length > 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "a keyring with extra KEKs needs a primary KEK");
  }
  const allowed = [...(options.primary ? [options.primary] : []), ...extra, ...decryptOnly];
  if (allowed.length === 0 && options.discovery === undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "a keyring needs at least one KEK or explicit discovery");
  }
  for (const kek of allowed) {
    if (!isKekShaped(kek)) {
      throw new EnvelopeError("INVALID_ARGUMENT", "every keyring member must be a KeyEncryptionKey");
    }
  }
  const economy = createKeyringEconomy(options);
  // One guard per member, so a KEK listed once shares its rate limit across encrypt and decrypt.
  const guards = new Map<KeyEncryptionKey, KeyEncryptionKey>();
  const guarded = (kek: KeyEncryptionKey): KeyEncryptionKey => {
    if (economy === undefined) return kek;
    let guard = guards.get(kek);
    if (guard === undefined) {
      guard = economy.guard(kek);
      guards.set(kek, guard);
    }
    return guard;
  };
  const primary = options.primary === undefined ? undefined : guarded(options.primary);
  const extraGuarded = extra.map(guarded);
  return Object.freeze({
    primary,
    extra: Object.freeze(extraGuarded),
    allowed: Object.freeze(allowed.map(guarded)),
    discovery: options.discovery,
    wrapping: Object.freeze(primary ? [primary, ...extraGuarded] : []),
    economy,
  });
}

export type UnwrapCandidate =
  | { readonly entry: WrappedKeyEntry; readonly kek: KeyEncryptionKey; readonly openError?: undefined }
  | { readonly entry: WrappedKeyEntry; readonly kek?: undefined; readonly openError: unknown };

/**
 * The (KEK, entry) pairs decrypt may try, in order: the keyring's KEKs in
 * keyring order (primary first), each with every entry it matches; then, if
 * discovery is on, entries no member matched that the filter accepts.
 */
export async function* unwrapCandidates(
  keyring: Keyring,
  entries: readonly WrappedKeyEntry[],
): AsyncGenerator<UnwrapCandidate> {
  const matched = new Set<WrappedKeyEntry>();
  for (const kek of keyring.allowed) {
    for (const entry of entries) {
      if (await kekMatches(kek, entry)) {
        matched.add(entry);
        yield { kek, entry };
      }
    }
  }
  const discovery = keyring.discovery;
  if (discovery === undefined) return;
  for (const entry of entries) {
    if (matched.has(entry) || !discovery.filter(entry)) continue;
    let kek: KeyEncryptionKey;
    try {
      kek = await discovery.open(entry);
    } catch (openError) {
      yield { entry, openError };
      continue;
    }
    yield { entry, kek: keyring.economy === undefined ? kek : keyring.economy.guard(kek) };
  }
}
