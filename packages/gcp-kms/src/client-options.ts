import { createRequire } from "node:module";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { checkClientSettings, EnvelopeError } from "@kms-envelope/core";

export type GcpClientOptions = NonNullable<ConstructorParameters<typeof KeyManagementServiceClient>[0]>;

/** Settings a config file can carry; each becomes a KeyManagementServiceClient option. */
export interface GcpClientSettings {
  /** The service URL, e.g. `https://europe-west1-kms.googleapis.com` (a regional or private endpoint); `http://` only for loopback. */
  endpoint?: string | undefined;
  /** "grpc" (default) or "rest" (HTTP/1.1 + JSON, for proxies that pass no HTTP/2). */
  transport?: "grpc" | "rest" | undefined;
  /** A service account key or other credentials JSON file, instead of Application Default Credentials. */
  credentialsFile?: string | undefined;
  /** No credentials at all (an emulator); refused unless `endpoint` is loopback. */
  insecureTestCredentials?: boolean | undefined;
}

interface GaxModule {
  grpc: { credentials: { createInsecure(): unknown } };
  googleAuthLibrary: { PassThroughClient: new () => object };
}

/**
 * The client library's own gax: insecure channel credentials and the auth
 * client must come from the very copies the client uses (grpc-js checks
 * credentials by class).
 */
function gaxOfClientLibrary(): GaxModule {
  const require = createRequire(import.meta.url);
  const entry = require.resolve("@google-cloud/kms");
  return require(require.resolve("google-gax", { paths: [entry] })) as GaxModule;
}

/**
 * The options of the client a KEK creates: its settings over the caller's
 * own `clientOptions`. The kit refuses them next to an injected client, and
 * checks the endpoint (https://, or http:// on loopback) and test credentials.
 */
export function clientOptionsFor(
  given: GcpClientSettings & { client?: unknown; clientOptions?: GcpClientOptions | undefined },
): GcpClientOptions {
  const { endpoint, transport, credentialsFile, insecureTestCredentials, clientOptions } = given;
  if (transport !== undefined && transport !== "grpc" && transport !== "rest") {
    throw new EnvelopeError("INVALID_ARGUMENT", 'gcp-kms transport must be "grpc" or "rest"');
  }
  const url = checkClientSettings({
    settings: { clientOptions, endpoint, transport, credentialsFile, insecureTestCredentials },
    injected: given.client !== undefined,
    endpoint,
    insecureTestCredentials,
  });
  if (url !== undefined && url.pathname !== "/") {
    throw new EnvelopeError("INVALID_ARGUMENT", `gcp-kms endpoint "${endpoint}" must be https://host[:port]`);
  }
  if (insecureTestCredentials === true && credentialsFile !== undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "insecureTestCredentials excludes credentialsFile");
  }
  const options: Record<string, unknown> = { ...clientOptions };
  if (transport === "rest") options.fallback = true;
  if (credentialsFile !== undefined) options.keyFilename = credentialsFile;
  if (insecureTestCredentials === true) {
    options.authClient = new (gaxOfClientLibrary().googleAuthLibrary.PassThroughClient)();
  }
  if (url !== undefined) {
    const plaintext = url.protocol === "http:";
    options.apiEndpoint = url.hostname.replace(/^\[(.*)\]$/, "$1");
    options.port = Number(url.port || (plaintext ? 80 : 443));
    if (plaintext) options.protocol = "http";
    // gRPC over a plaintext channel (an emulator): grpc-js needs insecure channel credentials.
    if (plaintext && transport !== "rest")
      options.sslCreds = gaxOfClientLibrary().grpc.credentials.createInsecure();
  }
  return options as GcpClientOptions;
}
