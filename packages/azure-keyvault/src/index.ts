export {
  AZURE_KEYVAULT_PROVIDER,
  AZURE_WRAP_ALGORITHMS,
  type AzureKeyVaultKekOptions,
  type AzureWrapAlgorithm,
  createAzureKeyVaultKek,
} from "./azure-keyvault-kek.js";
export { AZURE_CREDENTIAL_KINDS, AZURE_INSECURE_TEST_TOKEN, type AzureCredentialKind } from "./credential.js";
export { azureKeyVaultErrors } from "./errors.js";
export { type KeyVaultKeyId, parseKeyId as parseKeyVaultKeyId } from "./key-id.js";
export { type AzureKeyVaultUriOptions, azureKeyVaultUriProvider } from "./uri.js";
