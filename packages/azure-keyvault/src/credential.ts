import type { TokenCredential } from "@azure/core-auth";
import { checkClientSettings, EnvelopeError, isLoopbackUrl } from "@kms-envelope/core";
import { AZURE_CREDENTIAL_KINDS, type AzureKeyVaultKekOptions } from "./options.js";

/** The bearer token `insecureTestCredentials` presents (to loopback vaults only); the emulators accept it. */
export const AZURE_INSECURE_TEST_TOKEN = "kms-envelope-insecure-test-token";

/**
 * EnvironmentCredential's options. MSAL validates an unknown authority by asking
 * login.microsoftonline.com ("instance discovery"), which can never vouch for a
 * loopback one (an Entra ID emulator in AZURE_AUTHORITY_HOST): only then is it
 * off, keeping the token request on loopback. Other hosts (public, sovereign
 * clouds) keep MSAL's validation.
 */
function environmentOptions(): { disableInstanceDiscovery?: boolean } {
  const host = process.env.AZURE_AUTHORITY_HOST;
  return host !== undefined && isLoopbackUrl(host) ? { disableInstanceDiscovery: true } : {};
}

/**
 * The KEK's credential, checked now and made on first use, refusing
 * combinations that would be silently ignored.
 */
export function credentialLoader(options: AzureKeyVaultKekOptions, vaultUrl: string) {
  const { credential, tenantId, insecureTestCredentials } = options;
  checkClientSettings({ settings: {}, endpoint: vaultUrl, insecureTestCredentials });
  if (insecureTestCredentials === true) {
    if (credential !== undefined || tenantId !== undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", "insecureTestCredentials excludes credential and tenantId");
    }
    const token = { token: AZURE_INSECURE_TEST_TOKEN, tokenType: "Bearer" } as const;
    return async (): Promise<TokenCredential> => ({
      getToken: async () => ({ ...token, expiresOnTimestamp: Date.now() + 3_600_000 }),
    });
  }
  if (typeof credential === "object" && credential !== null) {
    if (tenantId !== undefined) {
      throw new EnvelopeError("INVALID_ARGUMENT", "tenantId is for a created credential, not a passed one");
    }
    return async (): Promise<TokenCredential> => credential;
  }
  const kind = credential === undefined ? "default" : credential; // null is no credential kind either
  if (!AZURE_CREDENTIAL_KINDS.includes(kind)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `credential must be a TokenCredential or one of ${AZURE_CREDENTIAL_KINDS.join(", ")}`,
    );
  }
  if (tenantId !== undefined && kind !== "default" && kind !== "cli") {
    throw new EnvelopeError("INVALID_ARGUMENT", `tenantId is only for "default" and "cli", not "${kind}"`);
  }
  return async (): Promise<TokenCredential> => {
    // Imported only now, so that a program handing us its own `TokenCredential`
    // needs no `@azure/identity` (and its MSAL tree) installed at all.
    const identity = await import("@azure/identity").catch((error: unknown) => {
      throw new EnvelopeError(
        "PROVIDER_NOT_INSTALLED",
        "no Azure credential was passed and @azure/identity is not installed: pass `credential` or install @azure/identity",
        { cause: error },
      );
    });
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
  };
}
