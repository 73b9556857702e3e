import { type KeyUriOpenOptions, type KeyUriProvider, readOpenOptions } from "@kms-envelope/core";
import type { AppRoleLogin, KubernetesLogin } from "./auth.js";
import { parseTransitKeyId, type TransitKeyType } from "./key-id.js";
import { createVaultTransitKek, VAULT_TRANSIT_PROVIDER } from "./vault-transit-kek.js";

/** Data a config file can carry for `vault-transit://` keys (plus `appRole` / `kubernetes` objects). */
const SPEC = {
  token: "string",
  tokenFile: "string",
  appRole: "object",
  kubernetes: "object",
  renewToken: "boolean",
  namespace: "string",
  caFile: "string",
  ca: "string",
  tls: "boolean",
  keyType: "string",
  derived: "boolean",
  generateDataKey: "boolean",
  maxRetries: "number",
  deadlineMs: "number",
} as const;

/** The per-scheme options `registry.open(uri, { "vault-transit": … })` passes through. */
export interface VaultTransitUriOptions {
  token?: string;
  tokenFile?: string;
  appRole?: AppRoleLogin;
  kubernetes?: KubernetesLogin;
  renewToken?: boolean;
  namespace?: string;
  caFile?: string;
  ca?: string;
  tls?: boolean;
  keyType?: TransitKeyType;
  derived?: boolean;
  generateDataKey?: boolean;
  maxRetries?: number;
  deadlineMs?: number;
}

function makeProvider(scheme: string): KeyUriProvider {
  return Object.freeze({
    scheme,
    provider: VAULT_TRANSIT_PROVIDER,
    open(location: string, options: KeyUriOpenOptions) {
      const read = readOpenOptions(scheme, options, SPEC);
      // appRole / kubernetes objects are checked field by field where the KEK is made.
      return createVaultTransitKek({
        ...(read as VaultTransitUriOptions),
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
