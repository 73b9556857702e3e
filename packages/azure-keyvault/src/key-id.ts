import { EnvelopeError } from "@kms-envelope/core";

/** A Key Vault or Managed HSM key id, split into the parts the SDK and the envelope need. */
export interface KeyVaultKeyId {
  /** https://host[:port], lowercase, without a trailing slash. */
  readonly vaultUrl: string;
  readonly name: string;
  /** Absent for an unversioned id (the key's current version). */
  readonly version: string | undefined;
  /** vaultUrl/keys/name: the same for every version of the key. */
  readonly unversioned: string;
  /** The canonical form of the id as given (versioned when a version was given). */
  readonly id: string;
}

const NAME = /^[0-9A-Za-z-]{1,127}$/;
const VERSION = /^[0-9A-Za-z]{1,64}$/;

/**
 * Parses `https://<vault>.vault.azure.net/keys/<name>[/<version>]` (or a
 * Managed HSM `…managedhsm.azure.net…` id). Returns undefined when `value` is
 * not one, so `matches` can answer false without throwing.
 */
export function tryParseKeyId(value: string): KeyVaultKeyId | undefined {
  if (!URL.canParse(value)) return undefined;
  const url = new URL(value);
  if (url.protocol !== "https:" || url.search || url.hash || url.username || url.password) return undefined;
  const [collection, name, version, ...rest] = url.pathname.replace(/\/$/, "").split("/").slice(1);
  if (collection !== "keys" || name === undefined || !NAME.test(name) || rest.length > 0) return undefined;
  if (version !== undefined && !VERSION.test(version)) return undefined;
  // URL already lowercases the host and drops the default port, so equal vaults compare equal as strings.
  const vaultUrl = url.origin;
  const unversioned = `${vaultUrl}/keys/${name}`;
  const id = version === undefined ? unversioned : `${unversioned}/${version}`;
  return { vaultUrl, name, version, unversioned, id };
}

/**
 * Whether `keyId` names the `configured` key: Key Vault key names are
 * case-insensitive (`…/keys/orders` is the key named `Orders`); the host is
 * already lowercase. Versions compare exactly; an unversioned `configured`
 * id accepts every version. An id that does not parse names no key.
 */
export function sameKey(configured: KeyVaultKeyId, keyId: string): boolean {
  const other = tryParseKeyId(keyId);
  return (
    other !== undefined &&
    configured.unversioned.toLowerCase() === other.unversioned.toLowerCase() &&
    (configured.version === undefined || configured.version === other.version)
  );
}

export function parseKeyId(value: unknown): KeyVaultKeyId {
  const parsed = typeof value === "string" ? tryParseKeyId(value) : undefined;
  if (parsed === undefined) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `"${String(value)}" is not a Key Vault key id (expected https://<vault host>/keys/<name>[/<version>])`,
    );
  }
  return parsed;
}
