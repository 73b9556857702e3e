export {
  createGcpKmsKek,
  GCP_KMS_PROVIDER,
  type GcpCallOptions,
  type GcpKmsKek,
  type GcpKmsKekOptions,
} from "./gcp-kms-kek.js";
export { STATUS_TO_CODE } from "./kms-errors.js";
export { gcpKmsUriProvider } from "./uri-provider.js";
