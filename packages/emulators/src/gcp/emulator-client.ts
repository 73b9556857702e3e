import { createRequire } from "node:module";
import type { KeyManagementServiceClient } from "@google-cloud/kms";

const require = createRequire(import.meta.url);

export type GcpTransport = "grpc" | "rest";

/** Options for `emulator.client()`: the transport, plus any client option to override. */
export type EmulatorClientOptions = { transport?: GcpTransport } & NonNullable<
  ConstructorParameters<typeof KeyManagementServiceClient>[0]
>;

interface GaxModule {
  grpc: { credentials: { createInsecure(): unknown } };
  googleAuthLibrary: { PassThroughClient: new () => object };
}

/**
 * The library's own gax, so the insecure channel credentials and the auth
 * client come from the very copies the client uses (grpc-js checks
 * credentials by class).
 */
function gaxOf(): GaxModule {
  const kmsEntry = require.resolve("@google-cloud/kms");
  return require(require.resolve("google-gax", { paths: [kmsEntry] })) as GaxModule;
}

/**
 * The options that point a real KeyManagementServiceClient at an emulator:
 * loopback endpoint and port, plaintext transport, and google-auth-library's
 * PassThroughClient, which sends no credentials and never looks for any (no
 * metadata server, no ADC file).
 */
export function emulatorClientOptions(
  host: string,
  port: number,
  transport: GcpTransport = "grpc",
): EmulatorClientOptions {
  const gax = gaxOf();
  const authClient = new gax.googleAuthLibrary.PassThroughClient();
  const base = { apiEndpoint: host, port, authClient } as EmulatorClientOptions;
  return transport === "rest"
    ? ({ ...base, fallback: true, protocol: "http" } as EmulatorClientOptions)
    : ({ ...base, sslCreds: gax.grpc.credentials.createInsecure() } as EmulatorClientOptions);
}

export function createEmulatorClient(host: string, port: number, options: EmulatorClientOptions = {}) {
  const { transport, ...overrides } = options;
  const { KeyManagementServiceClient: Client } =
    require("@google-cloud/kms") as typeof import("@google-cloud/kms");
  return new Client({ ...emulatorClientOptions(host, port, transport), ...overrides });
}
