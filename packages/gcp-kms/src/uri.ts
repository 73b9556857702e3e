import { type KeyUriProvider, type OptionSpecFor, readOpenOptions } from "@kms-envelope/core";
import { createGcpKmsKek, GCP_KMS_PROVIDER, type GcpKmsKekOptions } from "./gcp-kms-kek.js";

type GcpKmsUriOptions = Omit<GcpKmsKekOptions, "name">;

/** The registry's `gcp-kms` options: data a config file can carry, then code-only objects. */
const OPTIONS: OptionSpecFor<GcpKmsUriOptions> = {
  endpoint: "string",
  transport: ["grpc", "rest"],
  credentialsFile: "string",
  insecureTestCredentials: "boolean",
  client: "object",
  clientOptions: "object",
  callOptions: "object",
};

/** `gcp-kms://projects/p/…/cryptoKeys/k` (symmetric) or `…/cryptoKeyVersions/n` (asymmetric). */
export const gcpKmsUriProvider: KeyUriProvider = Object.freeze({
  scheme: GCP_KMS_PROVIDER,
  provider: GCP_KMS_PROVIDER,
  open: (location: string, given: unknown) =>
    createGcpKmsKek({
      ...readOpenOptions<GcpKmsUriOptions>(GCP_KMS_PROVIDER, given, OPTIONS),
      name: decodeURI(location),
    }),
  uriFor: (keyId: string) => `${GCP_KMS_PROVIDER}://${keyId}`,
});
