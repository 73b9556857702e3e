import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { EnvelopeError, isLoopbackUrl } from "@kms-envelope/core";

/** The @azure/identity credentials a config file can name. */
export type AzureCredentialKind = "default" | "cli" | "managed-identity" | "environment";

export const AZURE_CREDENTIAL_KINDS: readonly AzureCredentialKind[] = [
  "default",
  "cli",
  "managed-identity",
  "environment",
];

/**
 * The bearer token `insecureTestCredentials` presents; `@kms-envelope/emulators`
 * accepts it (only loopback vaults may be sent it).
 */
export const AZURE_INSECURE_TEST_TOKEN = "kms-envelope-insecure-test-token";

const insecureTestCredential: TokenCredential = {
  getToken: async (): Promise<AccessToken> => ({
    token: AZURE_INSECURE_TEST_TOKEN,
    expiresOnTimestamp: Date.now() + 3_600_000,
    tokenType: "Bearer",
  }),
};

interface IdentityModule {
  DefaultAzureCredential: new (options?: {
    tenantId?: string;
    disableInstanceDiscovery?: boolean;
  }) => TokenCredential;
  AzureCliCredential: new (options?: { tenantId?: string }) => TokenCredential;
  ManagedIdentityCredential: new () => TokenCredential;
  EnvironmentCredential: new (options?: { disableInstanceDiscovery?: boolean }) => TokenCredential;
}

/**
 * EnvironmentCredential's options. MSAL validates an authority it does not
 * know by asking login.microsoftonline.com ("instance discovery"), which can
 * never vouch for a loopback authority (an Entra ID emulator named by
 * AZURE_AUTHORITY_HOST): for that one case discovery is turned off, so the
 * token request stays on loopback. Every other authority host (public,
 * sovereign clouds) keeps MSAL's validation.
 */
function environmentOptions(): { disableInstanceDiscovery?: boolean } {
  const host = process.env.AZURE_AUTHORITY_HOST;
  return host !== undefined && isLoopbackUrl(host) ? { disableInstanceDiscovery: true } : {};
}

/**
 * An @azure/identity credential, imported only when no credential object
 * was passed, so that a program handing us its own `TokenCredential` needs
 * no `@azure/identity` (and its MSAL tree) installed at all.
 */
export async function loadCredential(
  kind: AzureCredentialKind | "insecure-test",
  tenantId: string | undefined,
): Promise<TokenCredential> {
  if (kind === "insecure-test") return insecureTestCredential;
  let identity: IdentityModule;
  try {
    identity = (await import("@azure/identity")) as unknown as IdentityModule;
  } catch (error) {
    throw new EnvelopeError(
      "PROVIDER_NOT_INSTALLED",
      "no Azure credential was passed and @azure/identity is not installed: pass `credential` or install @azure/identity",
      { cause: error },
    );
  }
  const tenant = tenantId === undefined ? undefined : { tenantId };
  switch (kind) {
    case "default":
      // Its chain starts with EnvironmentCredential, which gets these options too.
      return new identity.DefaultAzureCredential({ ...tenant, ...environmentOptions() });
    case "cli":
      return new identity.AzureCliCredential(tenant);
    case "managed-identity":
      // System-assigned; MSAL picks the source (App Service IDENTITY_ENDPOINT, …, else IMDS) at the first token.
      return new identity.ManagedIdentityCredential();
    case "environment":
      // Reads AZURE_TENANT_ID, AZURE_CLIENT_ID, AZURE_CLIENT_SECRET (or a certificate), AZURE_AUTHORITY_HOST now.
      return new identity.EnvironmentCredential(environmentOptions());
  }
}
