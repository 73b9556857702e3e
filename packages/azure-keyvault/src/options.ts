import type { TokenCredential } from "@azure/core-auth";
import type { CryptographyClientOptions } from "@azure/keyvault-keys";

/** The @azure/identity credentials a config file can name. */
export const AZURE_CREDENTIAL_KINDS = ["default", "cli", "managed-identity", "environment"] as const;
export type AzureCredentialKind = (typeof AZURE_CREDENTIAL_KINDS)[number];

/** RSA keys wrap with RSA-OAEP-256; Managed HSM AES keys (oct-HSM) with A256KW (RFC 3394). */
export const AZURE_WRAP_ALGORITHMS = ["RSA-OAEP-256", "A256KW"] as const;
export type AzureWrapAlgorithm = (typeof AZURE_WRAP_ALGORITHMS)[number];

/** The KEK's options: one module that the factory, the key cache and the credential loader read. */
export interface AzureKeyVaultKekOptions {
  /** https://<vault>.vault.azure.net/keys/<name>[/<version>] (or …managedhsm.azure.net…). */
  keyId: string;
  /** A `TokenCredential`, or an @azure/identity credential to create on first use. Default: "default". */
  credential?: TokenCredential | AzureCredentialKind | undefined;
  /** The tenant a "default" or "cli" credential signs in to. */
  tenantId?: string | undefined;
  /** A PEM file of certificates to trust for the vault's TLS (a private CA, an emulator). */
  caFile?: string | undefined;
  /** A static bearer token an emulator accepts; refused unless the vault is loopback. */
  insecureTestCredentials?: boolean | undefined;
  /** Passed to the SDK's KeyClient and CryptographyClient: retryOptions, tlsOptions, proxyOptions, httpClient, … */
  clientOptions?: CryptographyClientOptions | undefined;
  /** Default: from the key's type (RSA, RSA-HSM → RSA-OAEP-256; oct, oct-HSM → A256KW). */
  algorithm?: AzureWrapAlgorithm | undefined;
  /**
   * Wrap with the cached public key instead of calling the service (RSA only):
   * one keys/get, then no service call per encrypt. Unwrap always calls Key Vault.
   */
  wrapLocally?: boolean | undefined;
  /** How long a key read (its current version, attributes, public key) is trusted. Default 5 minutes. */
  keyCacheMs?: number | undefined;
}
