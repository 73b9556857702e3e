export { AZURE_KEYVAULT_PROVIDER, createAzureKeyVaultKek } from "./azure-keyvault-kek.js";
export { AZURE_INSECURE_TEST_TOKEN } from "./credential.js";
export { azureKeyVaultErrors } from "./errors.js";
export { type KeyVaultKeyId, parseKeyId as parseKeyVaultKeyId } from "./key-id.js";
export {
  AZURE_CREDENTIAL_KINDS,
  AZURE_WRAP_ALGORITHMS,
  type AzureCredentialKind,
  type AzureKeyVaultKekOptions,
  type AzureWrapAlgorithm,
} from "./options.js";
export { type AzureKeyVaultUriOptions, azureKeyVaultUriProvider } from "./uri.js";
