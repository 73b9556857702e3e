import {
  type KeyUriOpenOptions,
  type KeyUriProvider,
  type OptionSpecFor,
  readOpenOptions,
} from "@kms-envelope/core";
import { parseTransitKeyId, TRANSIT_KEY_TYPES } from "./key-id.js";
import {
  createVaultTransitKek,
  VAULT_TRANSIT_PROVIDER,
  type VaultTransitKekOptions,
} from "./vault-transit-kek.js";

/** The per-scheme options `registry.open(uri, { "vault-transit": … })` passes through. */
export type VaultTransitUriOptions = Omit<VaultTransitKekOptions, "key">;

/** Data a config file can carry for `vault-transit://` keys (plus `appRole` / `kubernetes` objects). */
const SPEC: OptionSpecFor<VaultTransitUriOptions> = {
  token: "string",
  tokenFile: "string",
  // Checked field by field where the KEK is made.
  appRole: "object",
  kubernetes: "object",
  renewToken: "boolean",
  namespace: "string",
  caFile: "string",
  ca: "string",
  tls: "boolean",
  keyType: TRANSIT_KEY_TYPES,
  derived: "boolean",
  generateDataKey: "boolean",
  maxRetries: "number",
  deadlineMs: "number",
};

function makeProvider(scheme: string): KeyUriProvider {
  return Object.freeze({
    scheme,
    provider: VAULT_TRANSIT_PROVIDER,
    open(location: string, options: KeyUriOpenOptions) {
      return createVaultTransitKek({
        ...readOpenOptions<VaultTransitUriOptions>(scheme, options, SPEC),
        key: location,
      });
    },
    uriFor(keyId: string) {
      return `vault-transit://${parseTransitKeyId(keyId).keyId}`;
    },
  });
}

/**
 * `vault-transit://host[:port]/<mount path>/keys/<name>[?derived=true&type=<key type>]`:
 * the port defaults to 8200, the mount path may hold slashes.
 */
export const vaultTransitUriProvider: KeyUriProvider = makeProvider("vault-transit");

/** `hcvault://…`, Tink's spelling of the same URI; its KEKs record the same provider id and key ids. */
export const hcvaultUriProvider: KeyUriProvider = makeProvider("hcvault");
