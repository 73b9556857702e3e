import { EnvelopeError } from "./errors.js";
import type { KeyEncryptionKey } from "./kek.js";
import { invalid, optionalObject, requireArray, requireString } from "./validate.js";

/** Opens a KEK from a parsed key URI such as `aws-kms://arn:aws:kms:…`. */
export interface KeyUriProvider {
  /** URI scheme without "://", e.g. "aws-kms". */
  readonly scheme: string;
  /** The envelope provider id this scheme's KEKs record (usually the scheme). */
  readonly provider: string;
  /** Opens the KEK named by everything after "scheme://". */
  open(location: string, options: KeyUriOpenOptions): KeyEncryptionKey | Promise<KeyEncryptionKey>;
  /** The key URI for an envelope entry, for discovery and for messages. */
  uriFor?(keyId: string): string;
}

/** Per-scheme settings (clients, credentials, keystore path) passed through to the provider. */
export type KeyUriOpenOptions = Readonly<Record<string, unknown>>;

/** Where each bundled scheme's provider lives, so a missing one can be named. */
export const KNOWN_PROVIDER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  "aws-kms": "@kms-envelope/aws-kms",
  "gcp-kms": "@kms-envelope/gcp-kms",
  "azure-keyvault": "@kms-envelope/azure-keyvault",
  local: "@kms-envelope/local",
  "vault-transit": "@kms-envelope/vault-transit",
  hcvault: "@kms-envelope/vault-transit",
});

export interface ParsedKeyUri {
  readonly scheme: string;
  readonly location: string;
}

export function parseKeyUri(uri: string): ParsedKeyUri {
  const match = /^([a-z][a-z0-9-]*):\/\/(.+)$/s.exec(typeof uri === "string" ? uri.trim() : "");
  if (match === null) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `"${String(uri)}" is not a key URI (expected scheme://location)`,
    );
  }
  return { scheme: match[1]!, location: match[2]! };
}

/**
 * An explicit registry instance: providers are registered by the code that
 * builds it, never by import side effects, so a program holds exactly the
 * providers it chose to depend on.
 */
export interface KeyUriRegistry {
  register(provider: KeyUriProvider): KeyUriRegistry;
  has(scheme: string): boolean;
  schemes(): string[];
  open(uri: string, options?: Readonly<Record<string, KeyUriOpenOptions>>): Promise<KeyEncryptionKey>;
  /** The provider that handles envelope entries recorded with `provider`. */
  forProvider(provider: string): KeyUriProvider | undefined;
}

function checkProvider(provider: KeyUriProvider): void {
  const where = "register";
  const value = provider as Partial<KeyUriProvider> | null;
  if (
    value === null ||
    typeof value !== "object" ||
    typeof value.scheme !== "string" ||
    !/^[a-z][a-z0-9-]*$/.test(value.scheme) ||
    typeof value.provider !== "string" ||
    typeof value.open !== "function" ||
    (value.uriFor !== undefined && typeof value.uriFor !== "function")
  ) {
    invalid(where, "a key-URI provider has a scheme ([a-z][a-z0-9-]*), a provider id and an open function");
  }
}

export function createKeyUriRegistry(providers: readonly KeyUriProvider[] = []): KeyUriRegistry {
  requireArray(providers, "createKeyUriRegistry", "providers");
  const byScheme = new Map<string, KeyUriProvider>();
  const registry: KeyUriRegistry = {
    register(provider) {
      checkProvider(provider);
      if (byScheme.has(provider.scheme)) {
        throw new EnvelopeError("INVALID_ARGUMENT", `scheme "${provider.scheme}" is already registered`);
      }
      byScheme.set(provider.scheme, provider);
      return registry;
    },
    has: (scheme) => byScheme.has(scheme),
    schemes: () => [...byScheme.keys()].sort(),
    async open(uri, options = {}) {
      optionalObject(options, "open");
      const { scheme, location } = parseKeyUri(uri);
      const provider = byScheme.get(scheme);
      if (provider === undefined) {
        const known = KNOWN_PROVIDER_PACKAGES[scheme];
        throw known === undefined
          ? new EnvelopeError("INVALID_ARGUMENT", `unknown key URI scheme "${scheme}://"`)
          : new EnvelopeError(
              "PROVIDER_NOT_INSTALLED",
              `"${scheme}://" keys need ${known}: install it and register its provider with the registry`,
            );
      }
      return provider.open(location, options[scheme] ?? {});
    },
    forProvider(providerId) {
      for (const provider of byScheme.values()) if (provider.provider === providerId) return provider;
      return undefined;
    },
  };
  for (const provider of providers) registry.register(provider);
  return registry;
}

/** Splits a key list as found in `KMS_ENVELOPE_KEYS`: URIs separated by commas, spaces or newlines. */
export function parseKeyList(value: string): string[] {
  return requireString(value, "parseKeyList", "value")
    .split(/[\s,]+/)
    .map((part) => part.trim())
    .filter((part) => part.length > 0);
}
