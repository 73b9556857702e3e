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
      return registry.open(provider.uriFor(entry.keyId), providerOptions);
    },
  };
}
