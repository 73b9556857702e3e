import {
  createKeyUriRegistry,
  EnvelopeError,
  type KeyUriProvider,
  type KeyUriRegistry,
  parseKeyUri,
} from "@kms-envelope/core";
import { localKeyUriProvider } from "@kms-envelope/local";

/**
 * The cloud (and Vault) provider packages the CLI can use, by URI scheme.
 * Each is an optional peer dependency: installed beside the CLI (`npm i -g
 * @kms-envelope/cli @kms-envelope/aws-kms`), it is imported only when a key
 * URI of its scheme is used, so a local-key run loads no cloud SDK. One
 * package may serve two schemes (`hcvault://` is Tink's spelling of
 * `vault-transit://`).
 */
export const CLOUD_PROVIDER_PACKAGES: Readonly<Record<string, string>> = Object.freeze({
  "aws-kms": "@kms-envelope/aws-kms",
  "gcp-kms": "@kms-envelope/gcp-kms",
  "azure-keyvault": "@kms-envelope/azure-keyvault",
  "vault-transit": "@kms-envelope/vault-transit",
  hcvault: "@kms-envelope/vault-transit",
});

function isMissingPackage(error: unknown, packageName: string): boolean {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  // Only the package itself missing counts; a missing dependency *inside* it is a load failure.
  return (
    code === "ERR_MODULE_NOT_FOUND" &&
    new RegExp(`Cannot find (package|module) '${packageName}'`).test((error as Error).message)
  );
}

/** The exported URI provider for `scheme`, whatever the package names it. */
function findUriProvider(module: Record<string, unknown>, scheme: string): KeyUriProvider | undefined {
  for (const value of Object.values(module)) {
    const candidate = value as Partial<KeyUriProvider> | null;
    if (
      typeof candidate === "object" &&
      candidate?.scheme === scheme &&
      typeof candidate.open === "function"
    ) {
      return candidate as KeyUriProvider;
    }
  }
  return undefined;
}

async function loadCloudProvider(scheme: string, packageName: string): Promise<KeyUriProvider | undefined> {
  let module: Record<string, unknown>;
  try {
    module = (await import(packageName)) as Record<string, unknown>;
  } catch (error) {
    if (isMissingPackage(error, packageName)) return undefined;
    const detail = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new EnvelopeError(
      "PROVIDER_NOT_INSTALLED",
      `${packageName} is installed but failed to load: ${detail}`,
      { cause: error },
    );
  }
  const provider = findUriProvider(module, scheme);
  if (provider === undefined) {
    throw new EnvelopeError(
      "PROVIDER_NOT_INSTALLED",
      `${packageName} does not export a "${scheme}://" URI provider`,
    );
  }
  return provider;
}

/** Schemes of URIs, and of envelope entries' providers, that a command needs. */
export function schemesOf(uris: readonly string[]): Set<string> {
  return new Set(uris.map((uri) => parseKeyUri(uri).scheme));
}

/**
 * A registry holding the local provider and the cloud providers for
 * `schemes` that are installed. A scheme whose package is absent stays
 * unregistered, so opening its URI names the package to install.
 */
export async function createCliRegistry(schemes: Iterable<string>): Promise<KeyUriRegistry> {
  const registry = createKeyUriRegistry([localKeyUriProvider]);
  const wanted = [...new Set(schemes)].filter((scheme) => Object.hasOwn(CLOUD_PROVIDER_PACKAGES, scheme));
  const loaded = await Promise.all(
    wanted.map((scheme) => loadCloudProvider(scheme, CLOUD_PROVIDER_PACKAGES[scheme]!)),
  );
  for (const provider of loaded) if (provider !== undefined) registry.register(provider);
  return registry;
}

/** `PROVIDER_NOT_INSTALLED` with the install line for the CLI. */
export function missingProviderHint(scheme: string): string | undefined {
  const packageName = CLOUD_PROVIDER_PACKAGES[scheme];
  return packageName === undefined ? undefined : `npm i -g @kms-envelope/cli ${packageName}`;
}
