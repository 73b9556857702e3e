import { Server, ServerCredentials, type ServiceDefinition } from "@grpc/grpc-js";
import type { PackageDefinition } from "@grpc/proto-loader";
import type { createKmsService, Wire } from "./kms-service.js";
import { SERVICE_NAME } from "./protos.js";
import { KmsStatusError } from "./status.js";

/**
 * A grpc-js server for every KeyManagementService method in the proto; the
 * ones the emulator does not implement answer UNIMPLEMENTED. Bound on an
 * internal loopback port behind the emulator's front listener.
 */
export async function startGrpcServer(
  definition: PackageDefinition,
  kms: ReturnType<typeof createKmsService>,
  drop: () => void,
): Promise<{ server: Server; port: number }> {
  const service = definition[SERVICE_NAME] as unknown as ServiceDefinition;
  const implementation: Record<string, unknown> = {};
  for (const method of Object.keys(service)) {
    implementation[method] = (
      call: { request: Wire },
      callback: (error: Error | null, response?: Wire) => void,
    ) => {
      kms.call(method, call.request, { drop }).then(
        (response) => callback(null, response),
        (error: unknown) => {
          const status =
            error instanceof KmsStatusError
              ? error
              : new KmsStatusError("INTERNAL", "Internal error in the Cloud KMS emulator.");
          callback(Object.assign(new Error(status.message), { code: status.code, details: status.message }));
        },
      );
    };
  }
  const server = new Server();
  server.addService(service, implementation as never);
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync("127.0.0.1:0", ServerCredentials.createInsecure(), (error, bound) =>
      error === null ? resolve(bound) : reject(error),
    );
  });
  return { server, port };
}
