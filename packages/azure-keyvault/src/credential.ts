import type { TokenCredential } from "@azure/core-auth";
import { EnvelopeError } from "@kms-envelope/core";

/**
 * `DefaultAzureCredential`, imported only when no credential was passed, so
 * that a program handing us its own `TokenCredential` needs no
 * `@azure/identity` (and its MSAL tree) installed at all.
 */
export async function loadDefaultCredential(): Promise<TokenCredential> {
  let identity: { DefaultAzureCredential: new () => TokenCredential };
  try {
    identity = await import("@azure/identity");
  } catch (error) {
    throw new EnvelopeError(
      "PROVIDER_NOT_INSTALLED",
      "no Azure credential was passed and @azure/identity is not installed: pass `credential` or install @azure/identity",
      { cause: error },
    );
  }
  return new identity.DefaultAzureCredential();
}
