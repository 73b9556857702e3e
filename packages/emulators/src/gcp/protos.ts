import { createRequire } from "node:module";
import { fromJSON, type PackageDefinition } from "@grpc/proto-loader";

const require = createRequire(import.meta.url);

export const SERVICE_NAME = "google.cloud.kms.v1.KeyManagementService";

let cached: PackageDefinition | undefined;

/**
 * The KeyManagementService definition from the descriptor bundle that
 * @google-cloud/kms ships (build/protos/protos.json, which carries the
 * google.api, google.protobuf and google.cloud.kms.v1 files together), so
 * the emulator speaks exactly the wire the client library was generated from.
 */
export function loadKmsProtos(): PackageDefinition {
  if (cached !== undefined) return cached;
  let json: unknown;
  try {
    json = require("@google-cloud/kms/build/protos/protos.json");
  } catch (cause) {
    throw new Error(
      "the Cloud KMS emulator needs @google-cloud/kms (a peer dependency) for its .proto files",
      {
        cause,
      },
    );
  }
  cached = fromJSON(json as Parameters<typeof fromJSON>[0], {
    keepCase: false,
    longs: String,
    enums: String,
    defaults: false,
    oneofs: true,
  });
  return cached;
}
