import { createKeyUriRegistry, type KeyUriProvider, type KeyUriRegistry } from "@kms-envelope/core";
import { localKeyUriProvider } from "@kms-envelope/local";

/** Cloud providers are used when installed beside the CLI; each exports its URI provider under this name. */
const OPTIONAL_PROVIDERS: readonly (readonly [string, string])[] = [
  ["@kms-envelope/aws-kms", "awsKmsUriProvider"],
  ["@kms-envelope/gcp-kms", "gcpKmsUriProvider"],
  ["@kms-envelope/azure-keyvault", "azureKeyVaultUriProvider"],
];

export async function createCliRegistry(): Promise<KeyUriRegistry> {
  const registry = createKeyUriRegistry([localKeyUriProvider]);
  for (const [packageName, exportName] of OPTIONAL_PROVIDERS) {
    let loaded: Record<string, unknown>;
    try {
      loaded = (await import(packageName)) as Record<string, unknown>;
    } catch {
      continue; // not installed: the registry names the package if a URI needs it
    }
    const provider = loaded[exportName] as KeyUriProvider | undefined;
    if (provider !== undefined) registry.register(provider);
  }
  return registry;
}
