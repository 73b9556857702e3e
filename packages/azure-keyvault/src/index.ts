export {
  AZURE_KEYVAULT_PROVIDER,
  type AzureKeyVaultKekOptions,
  type AzureWrapAlgorithm,
  createAzureKeyVaultKek,
} from "./azure-keyvault-kek.js";
export { type KeyVaultKeyId, parseKeyId as parseKeyVaultKeyId } from "./key-id.js";
export { type AzureKeyVaultUriOptions, azureKeyVaultUriProvider } from "./uri-provider.js";
