import {
  type DiscoveryOptions,
  EnvelopeError,
  type KeyUriOpenOptions,
  type KeyUriRegistry,
  type WrappedKeyEntry,
} from "@kms-envelope/core";
import type { DiscoveryFilters } from "./types.js";

type EntryId = Pick<WrappedKeyEntry, "provider" | "keyId">;

const AWS_ARN = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/[^/]+$/;
const GCP_NAME =
  /^projects\/([^/]+)\/locations\/([^/]+)\/keyRings\/[^/]+\/cryptoKeys\/[^/]+(?:\/cryptoKeyVersions\/[^/]+)?$/;
const AZURE_KID = /^https:\/\/([^/:]+)(?::443)?\/keys\/[^/]+(?:\/[^/]+)?$/;
const LOCAL_NAME = /^[^/]+$/;
/** A transit key id: host:port/<namespace and mount path>/keys/<name>. */
const VAULT_ID = /^([^/]+)\/(.+)\/keys\/[^/]+$/;

const trimSlashes = (path: string) => path.replace(/^\/+|\/+$/g, "");

/** "host[:port]" as transit key ids spell it: lowercase, port 8200 when absent. */
function vaultServer(server: string): string {
  const host = server.toLowerCase();
  return /:\d+$/.test(host) ? host : `${host}:8200`;
}

/** Whether discovery's filters accept an envelope entry: only exact, parsed matches. */
export function discoveryAccepts(filters: DiscoveryFilters, entry: EntryId): boolean {
  switch (entry.provider) {
    case "aws-kms": {
      const filter = filters["aws-kms"];
      const arn = AWS_ARN.exec(entry.keyId);
      return (
        filter !== undefined &&
        arn !== null &&
        arn[1] === filter.partition &&
        filter.accounts.includes(arn[3]!) &&
        (filter.regions === undefined || filter.regions.includes(arn[2]!))
      );
    }
    case "gcp-kms": {
      const filter = filters["gcp-kms"];
      const name = GCP_NAME.exec(entry.keyId);
      return (
        filter !== undefined &&
        name !== null &&
        filter.projects.includes(name[1]!) &&
        (filter.locations === undefined || filter.locations.includes(name[2]!))
      );
    }
    case "azure-keyvault": {
      const filter = filters["azure-keyvault"];
      const kid = AZURE_KID.exec(entry.keyId);
      return filter !== undefined && kid !== null && filter.vaults.includes(kid[1]!.toLowerCase());
    }
    case "vault-transit": {
      const filter = filters["vault-transit"];
      const id = VAULT_ID.exec(entry.keyId);
      return (
        filter !== undefined &&
        id !== null &&
        filter.servers.some((server) => vaultServer(server) === id[1]) &&
        (filter.mounts === undefined || filter.mounts.some((mount) => trimSlashes(mount) === id[2]))
      );
    }
    case "local":
      return filters.local !== undefined && LOCAL_NAME.test(entry.keyId);
    default:
      return false;
  }
}

/**
 * Core's discovery options from a profile's filters: entries the filters
 * accept are opened through the registry (by the provider's `uriFor`), with
 * the profile's provider settings.
 */
export function discoveryFromFilters(
  filters: DiscoveryFilters,
  registry: KeyUriRegistry,
  providerOptions: Readonly<Record<string, KeyUriOpenOptions>>,
): DiscoveryOptions {
  const normalized: DiscoveryFilters = {
    ...filters,
    ...(filters["azure-keyvault"] === undefined
      ? {}
      : { "azure-keyvault": { vaults: filters["azure-keyvault"].vaults.map((host) => host.toLowerCase()) } }),
  };
  return {
    filter: (entry) => discoveryAccepts(normalized, entry),
    async open(entry) {
      const provider = registry.forProvider(entry.provider);
      if (provider?.uriFor === undefined) {
        throw new EnvelopeError(
          "PROVIDER_NOT_INSTALLED",
          `no installed provider opens ${entry.provider} keys`,
        );
      }
      if (entry.provider === "vault-transit" && VAULT_ID.test(entry.keyId)) {
        const { uri, options } = discoveredVaultKey(provider.scheme, entry.keyId, providerOptions);
        return registry.open(uri, options);
      }
      return registry.open(provider.uriFor(entry.keyId), providerOptions);
    },
  };
}

/**
 * A transit key id holds the namespace in front of the mount, and the opener
 * would put the profile's `namespace` (or VAULT_NAMESPACE) in front again:
 * a key inside that namespace is opened by its path below it (logins stay in
 * the namespace), any other by its full path from the root namespace.
 */
function discoveredVaultKey(
  scheme: string,
  keyId: string,
  providerOptions: Readonly<Record<string, KeyUriOpenOptions>>,
): { uri: string; options: Readonly<Record<string, KeyUriOpenOptions>> } {
  const settings = providerOptions[scheme] ?? {};
  const configured = settings.namespace ?? process.env.VAULT_NAMESPACE ?? "";
  const namespace = typeof configured === "string" ? trimSlashes(configured) : "";
  const slash = keyId.indexOf("/");
  const [server, path] = [keyId.slice(0, slash), keyId.slice(slash + 1)];
  if (namespace !== "" && path.startsWith(`${namespace}/`)) {
    return { uri: `${scheme}://${server}/${path.slice(namespace.length + 1)}`, options: providerOptions };
  }
  return {
    uri: `${scheme}://${keyId}`,
    options: { ...providerOptions, [scheme]: { ...settings, namespace: "" } },
  };
}
