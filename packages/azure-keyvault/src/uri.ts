import type { TokenCredential } from "@azure/core-auth";
import type { CryptographyClientOptions } from "@azure/keyvault-keys";
import { EnvelopeError, type KeyUriProvider, readOpenOptions } from "@kms-envelope/core";
import {
  AZURE_KEYVAULT_PROVIDER,
  type AzureKeyVaultKekOptions,
  type AzureWrapAlgorithm,
  createAzureKeyVaultKek,
} from "./azure-keyvault-kek.js";
import type { AzureCredentialKind } from "./credential.js";
import { parseKeyId } from "./key-id.js";

/** The registry's `azure-keyvault` options: data a config file can carry, then code-only objects. */
const OPTIONS = {
  tenantId: "string",
  caFile: "string",
  insecureTestCredentials: "boolean",
  algorithm: "string",
  wrapLocally: "boolean",
  keyCacheMs: "number",
  clientOptions: "object",
} as const;

/** The per-scheme options `registry.open(uri, { "azure-keyvault": … })` passes through. */
export type AzureKeyVaultUriOptions = Omit<AzureKeyVaultKekOptions, "keyId">;

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
    // `credential` is a string (a config file) or an object (code): checked by the KEK factory.
    const { credential, ...rest } = (given ?? {}) as { credential?: unknown };
    if (
      credential !== undefined &&
      typeof credential !== "string" &&
      (typeof credential !== "object" || credential === null)
    ) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        'azure-keyvault provider option "credential" must be a string or a TokenCredential',
      );
    }
    const options = readOpenOptions(AZURE_KEYVAULT_PROVIDER, rest, OPTIONS);
    return createAzureKeyVaultKek({
      keyId: parseKeyId(`https://${location}`).id,
      credential: credential as AzureCredentialKind | TokenCredential | undefined,
      tenantId: options.tenantId,
      caFile: options.caFile,
      insecureTestCredentials: options.insecureTestCredentials,
      clientOptions: options.clientOptions as CryptographyClientOptions | undefined,
      algorithm: options.algorithm as AzureWrapAlgorithm | undefined,
      wrapLocally: options.wrapLocally,
      keyCacheMs: options.keyCacheMs,
    });
  },
  uriFor(keyId: string) {
    return `azure-keyvault://${parseKeyId(keyId).id.slice("https://".length)}`;
  },
});
