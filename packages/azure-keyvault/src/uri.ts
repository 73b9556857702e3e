import { EnvelopeError, type KeyUriProvider, type OptionSpecFor, readOpenOptions } from "@kms-envelope/core";
import { AZURE_KEYVAULT_PROVIDER, createAzureKeyVaultKek } from "./azure-keyvault-kek.js";
import { parseKeyId } from "./key-id.js";
import { AZURE_CREDENTIAL_KINDS, AZURE_WRAP_ALGORITHMS, type AzureKeyVaultKekOptions } from "./options.js";

/** The per-scheme options `registry.open(uri, { "azure-keyvault": … })` passes through. */
export type AzureKeyVaultUriOptions = Omit<AzureKeyVaultKekOptions, "keyId">;

/** The registry's `azure-keyvault` options: data a config file can carry, then code-only objects. */
const OPTIONS: OptionSpecFor<AzureKeyVaultUriOptions> = {
  // A credential's name (a config file) or a TokenCredential (code).
  credential: { anyOf: [AZURE_CREDENTIAL_KINDS, "object"] },
  tenantId: "string",
  caFile: "string",
  insecureTestCredentials: "boolean",
  algorithm: AZURE_WRAP_ALGORITHMS,
  wrapLocally: "boolean",
  keyCacheMs: "number",
  clientOptions: "object",
};

/**
 * `azure-keyvault://<vault host>/keys/<name>[/<version>]` ↔
 * `https://<vault host>/keys/<name>[/<version>]`.
 */
export const azureKeyVaultUriProvider: KeyUriProvider = Object.freeze({
  scheme: "azure-keyvault",
  provider: AZURE_KEYVAULT_PROVIDER,
  open(location: string, given: unknown) {
    if (location.startsWith("https://") || location.startsWith("/")) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "write azure-keyvault://<vault host>/keys/<name>, without https://",
      );
    }
    return createAzureKeyVaultKek({
      ...readOpenOptions<AzureKeyVaultUriOptions>(AZURE_KEYVAULT_PROVIDER, given, OPTIONS),
      keyId: parseKeyId(`https://${location}`).id,
    });
  },
  uriFor(keyId: string) {
    return `azure-keyvault://${parseKeyId(keyId).id.slice("https://".length)}`;
  },
});
