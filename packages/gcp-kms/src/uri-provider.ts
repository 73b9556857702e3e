import { EnvelopeError, type KeyUriOpenOptions, type KeyUriProvider } from "@kms-envelope/core";
import { createGcpKmsKek, GCP_KMS_PROVIDER, type GcpKmsKekOptions } from "./gcp-kms-kek.js";

const OPTION_KEYS = new Set(["client", "clientOptions", "callOptions"]);

/**
 * `gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k` (symmetric) or
 * `…/cryptoKeyVersions/n` (asymmetric). Per-scheme options are those of
 * `createGcpKmsKek` without `name`: `client`, `clientOptions`, `callOptions`.
 */
export const gcpKmsUriProvider: KeyUriProvider = Object.freeze({
  scheme: GCP_KMS_PROVIDER,
  provider: GCP_KMS_PROVIDER,
  open(location: string, options: KeyUriOpenOptions) {
    for (const key of Object.keys(options)) {
      if (!OPTION_KEYS.has(key)) {
        throw new EnvelopeError(
          "INVALID_ARGUMENT",
          `unknown gcp-kms option "${key}" (expected client, clientOptions or callOptions)`,
        );
      }
    }
    return createGcpKmsKek({ ...(options as Omit<GcpKmsKekOptions, "name">), name: decodeURI(location) });
  },
  uriFor: (keyId: string) => `${GCP_KMS_PROVIDER}://${keyId}`,
});
