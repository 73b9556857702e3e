export type { GcpClientOptions, GcpClientSettings } from "./client-options.js";
export { crc32c } from "./crc32c.js";
export { gcpKmsErrors, STATUS_TO_CODE } from "./errors.js";
export type { GcpCallOptions, GcpKmsKek, GcpKmsKekOptions } from "./gcp-kms-kek.js";
export { createGcpKmsKek, GCP_KMS_PROVIDER } from "./gcp-kms-kek.js";
export { gcpKmsUriProvider } from "./uri.js";
