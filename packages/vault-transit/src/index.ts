export type { AppRoleLogin, KubernetesLogin, VaultAuthOptions } from "./auth.js";
export { vaultTransitErrors } from "./errors.js";
export { parseTransitKeyId, type TransitKeyId, type TransitKeyType, transitKeyVersion } from "./key-id.js";
export { hcvaultUriProvider, type VaultTransitUriOptions, vaultTransitUriProvider } from "./uri.js";
export { VaultResponseError } from "./vault-http.js";
export {
  createVaultTransitKek,
  VAULT_TRANSIT_PROVIDER,
  type VaultTransitKekOptions,
} from "./vault-transit-kek.js";
