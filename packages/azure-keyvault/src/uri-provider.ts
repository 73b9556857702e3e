import type { TokenCredential } from "@azure/core-auth";
import type { CryptographyClientOptions } from "@azure/keyvault-keys";
import { EnvelopeError, type KeyUriOpenOptions, type KeyUriProvider } from "@kms-envelope/core";
import {
  AZURE_KEYVAULT_PROVIDER,
  type AzureWrapAlgorithm,
  createAzureKeyVaultKek,
} from "./azure-keyvault-kek.js";
import { parseKeyId } from "./key-id.js";

/** The per-scheme options `registry.open(uri, { "azure-keyvault": … })` passes through. */
export interface AzureKeyVaultUriOptions {
  credential?: TokenCredential;
  clientOptions?: CryptographyClientOptions;
  algorithm?: AzureWrapAlgorithm;
  wrapLocally?: boolean;
  keyCacheMs?: number;
}

function pick(options: KeyUriOpenOptions): AzureKeyVaultUriOptions {
  const known = ["credential", "clientOptions", "algorithm", "wrapLocally", "keyCacheMs"];
  for (const name of Object.keys(options)) {
    if (!known.includes(name)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `unknown azure-keyvault option "${name}" (known: ${known.join(", ")})`,
      );
    }
  }
  return options as AzureKeyVaultUriOptions;
}

/**
 * `azure-keyvault://<vault host>/keys/<name>[/<version>]` ↔
 * `https://<vault host>/keys/<name>[/<version>]`.
 */
export const azureKeyVaultUriProvider: KeyUriProvider = Object.freeze({
  scheme: "azure-keyvault",
  provider: AZURE_KEYVAULT_PROVIDER,
  open(location: string, options: KeyUriOpenOptions) {
    if (location.startsWith("https://") || location.startsWith("/")) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "write azure-keyvault://<vault host>/keys/<name>, without https://",
      );
    }
    return createAzureKeyVaultKek({ ...pick(options), keyId: parseKeyId(`https://${location}`).id });
  },
  uriFor(keyId: string) {
    const parsed = parseKeyId(keyId);
    return `azure-keyvault://${parsed.id.slice("https://".length)}`;
  },
});
