import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { EnvelopeError, type KeyUriProvider, readOpenOptions } from "@kms-envelope/core";
import type { GcpClientOptions } from "./client-options.js";
import { createGcpKmsKek, GCP_KMS_PROVIDER, type GcpCallOptions } from "./gcp-kms-kek.js";

/** The registry's `gcp-kms` options: data a config file can carry, then code-only objects. */
const OPTIONS = {
  endpoint: "string",
  transport: "string",
  credentialsFile: "string",
  insecureTestCredentials: "boolean",
  client: "object",
  clientOptions: "object",
  callOptions: "object",
} as const;

/**
 * `gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k` (symmetric) or
 * `…/cryptoKeyVersions/n` (asymmetric). Per-scheme options are those of
 * `createGcpKmsKek` without `name`: `endpoint`, `transport`, `credentialsFile`,
 * `insecureTestCredentials`, and from code `client`, `clientOptions`, `callOptions`.
 */
export const gcpKmsUriProvider: KeyUriProvider = Object.freeze({
  scheme: GCP_KMS_PROVIDER,
  provider: GCP_KMS_PROVIDER,
  open(location: string, given: unknown) {
    const options = readOpenOptions(GCP_KMS_PROVIDER, given, OPTIONS);
    const { transport } = options;
    if (transport !== undefined && transport !== "grpc" && transport !== "rest") {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        'gcp-kms provider option "transport" must be "grpc" or "rest"',
      );
    }
    return createGcpKmsKek({
      name: decodeURI(location),
      endpoint: options.endpoint,
      transport,
      credentialsFile: options.credentialsFile,
      insecureTestCredentials: options.insecureTestCredentials,
      client: options.client as KeyManagementServiceClient | undefined,
      clientOptions: options.clientOptions as GcpClientOptions | undefined,
      callOptions: options.callOptions as GcpCallOptions | undefined,
    });
  },
  uriFor: (keyId: string) => `${GCP_KMS_PROVIDER}://${keyId}`,
});
