import { randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { setTimeout as sleep } from "node:timers/promises";
import { KMSClient, type KMSClientConfig } from "@aws-sdk/client-kms";
import {
  type CallCounter,
  createCallCounter,
  createFaultController,
  type FaultController,
} from "../faults.js";
import { holdIdleConnections } from "../keep-alive.js";
import { persistStore } from "../state-file.js";
import { type EmulatedKeySpec, KeyStore } from "./key-store.js";
import { KmsError, kmsError } from "./kms-error.js";
import { keyMetadata, OPERATIONS } from "./operations.js";
import { type EmulatorPrincipal, verifySigV4 } from "./sigv4.js";

export type { EmulatedKeySpec } from "./key-store.js";
export { KmsError } from "./kms-error.js";

/** The static credentials every emulator accepts as root (see aws-kms's insecureTestCredentials). */
export const INSECURE_TEST_PRINCIPAL: EmulatorPrincipal = Object.freeze({
  accessKeyId: "KMSENVELOPETESTONLY",
  secretAccessKey: "insecure-test-credentials",
});

export interface AwsKmsEmulatorOptions {
  /** TCP port on 127.0.0.1; a free one when absent. */
  port?: number | undefined;
  /** The account in every ARN (default 111122223333). */
  account?: string | undefined;
  /** The region `client()` and `createKey()` use when given none (default us-east-1). */
  region?: string | undefined;
  /** Static credentials allowed every operation (default: a fixed access key id with a random secret). */
  credentials?: { readonly accessKeyId: string; readonly secretAccessKey: string } | undefined;
  /**
   * Keys and aliases are loaded from this JSON file when it exists and saved
   * to it after every change, so they survive a restart. It holds key
   * material in clear (0600): development only.
   */
  stateFile?: string | undefined;
  /**
   * Let in any well-formed SigV4-signed request, whatever its access key
   * (unknown keys' signatures cannot be checked): for the emulators command,
   * so SDK clients with any static credentials can talk to it. Off in tests.
   */
  acceptAnyCredentials?: boolean | undefined;
}

/** Operations that change no state: everything else is followed by a save to the state file. */
const READ_ONLY = new Set([
  "DescribeKey",
  "Encrypt",
  "Decrypt",
  "ReEncrypt",
  "GenerateDataKey",
  "GenerateDataKeyWithoutPlaintext",
  "GetPublicKey",
]);

export interface EmulatorClientOptions {
  region?: string | undefined;
  /** Operations the client's credentials may call (e.g. ["GetPublicKey"]); all when absent. */
  allow?: readonly string[] | undefined;
  /** Anything else for the KMSClient (maxAttempts, retryMode, requestHandler…). */
  config?: Omit<KMSClientConfig, "endpoint" | "region" | "credentials"> | undefined;
}

export interface CreateKeyOptions {
  region?: string | undefined;
  keySpec?: EmulatedKeySpec | undefined;
  multiRegion?: boolean | undefined;
  description?: string | undefined;
  /** Also create this alias ("alias/…") for the key. */
  alias?: string | undefined;
}

export interface EmulatedKeyInfo {
  readonly keyId: string;
  readonly arn: string;
  readonly region: string;
  readonly aliasName?: string;
  readonly aliasArn?: string;
}

/** One error answered in place of the next matching calls' responses (any KMS error type). */
export interface InjectedError {
  readonly type: string;
  readonly message?: string;
  /** HTTP status; the one AWS uses for `type` when absent. */
  readonly status?: number;
  readonly operation?: string;
}

/** A KMSClient config whose connection settings are all set. */
export type EmulatorClientConfig = KMSClientConfig & {
  endpoint: string;
  region: string;
  credentials: { accessKeyId: string; secretAccessKey: string };
};

export interface AwsKmsEmulator {
  /** http://127.0.0.1:port, for the client's `endpoint`. */
  readonly endpoint: string;
  readonly region: string;
  readonly account: string;
  /** Static credentials allowed every operation. */
  readonly credentials: { readonly accessKeyId: string; readonly secretAccessKey: string };
  /** Config for a KMSClient that talks to the emulator (static credentials, explicit endpoint and region). */
  clientConfig(options?: EmulatorClientOptions): EmulatorClientConfig;
  /** A real KMSClient for the emulator; destroyed by `close()`. */
  client(options?: EmulatorClientOptions): KMSClient;
  /** Creates a key directly in the emulator's state (no call is counted). */
  createKey(options?: CreateKeyOptions): EmulatedKeyInfo;
  /** DescribeKey's KeyMetadata for a key, straight from state. */
  describeKey(keyId: string, region?: string): Record<string, unknown>;
  /** Throttle, 5xx, latency or reset for the next calls. */
  readonly faults: FaultController;
  /** Calls received per operation (faulted ones included), e.g. `calls.count("Encrypt")`. */
  readonly calls: CallCounter;
  /** The next `count` matching calls fail with this KMS error (e.g. KeyUnavailableException). */
  failNext(error: InjectedError, count?: number): void;
  /**
   * The next successful response of `operation` is rewritten by `transform`
   * before it is sent: a misbehaving or compromised endpoint, for testing
   * what a client checks (e.g. a different KeyId).
   */
  tamperNext(
    operation: string,
    transform: (output: Record<string, unknown>) => Record<string, unknown>,
  ): void;
  close(): Promise<void>;
}

const JSON_TYPE = "application/x-amz-json-1.1";

/**
 * Starts an AWS KMS emulator on loopback: the KMS JSON 1.1 protocol
 * (`POST /`, `X-Amz-Target: TrentService.<Operation>`), SigV4-signed
 * requests, keys kept in memory per region.
 */
export async function startAwsKmsEmulator(options: AwsKmsEmulatorOptions = {}): Promise<AwsKmsEmulator> {
  const region = options.region ?? "us-east-1";
  const store = new KeyStore(options.account ?? "111122223333");
  const save = persistStore(store, options.stateFile, "aws-kms");
  const faults = createFaultController();
  const calls = createCallCounter();
  const injected: InjectedError[] = [];
  const tampers: {
    operation: string;
    transform: (output: Record<string, unknown>) => Record<string, unknown>;
  }[] = [];
  const root: EmulatorPrincipal = options.credentials ?? {
    accessKeyId: "AKIDKMSEMULATOR00000",
    secretAccessKey: randomUUID(),
  };
  // Also the well-known pair a provider's `insecureTestCredentials: true` sends (aws-kms's
  // AWS_INSECURE_TEST_CREDENTIALS), so a config file can point at the emulator without secrets.
  const principals = new Map<string, EmulatorPrincipal>([
    [root.accessKeyId, root],
    [INSECURE_TEST_PRINCIPAL.accessKeyId, INSECURE_TEST_PRINCIPAL],
  ]);
  const clients: KMSClient[] = [];

  async function handle(request: IncomingMessage, response: ServerResponse, body: Buffer): Promise<void> {
    const target = request.headers["x-amz-target"];
    const operation =
      typeof target === "string" && target.startsWith("TrentService.") ? target.slice(13) : undefined;
    calls.record(operation ?? "(unknown)");
    // An unknown target is refused before authentication: there is nothing to authorize.
    if (request.method !== "POST" || operation === undefined || !Object.hasOwn(OPERATIONS, operation)) {
      throw kmsError("UnknownOperationException", "");
    }
    const { principal, region: requestRegion } = verifySigV4(
      request.method,
      request.url ?? "/",
      request.headers,
      body,
      principals,
      options.acceptAnyCredentials === true,
    );
    const fault = faults.take(operation);
    if (fault?.kind === "reset") {
      request.socket.destroy();
      return;
    }
    if (fault?.kind === "throttle") throw kmsError("ThrottlingException", "Rate exceeded");
    if (fault?.kind === "unavailable")
      throw new KmsError("KMSInternalException", "The service is unavailable.", 500);
    if (fault?.kind === "latency") await sleep(fault.delayMs ?? 1000);
    const errorIndex = injected.findIndex(
      (error) => error.operation === undefined || error.operation === operation,
    );
    if (errorIndex !== -1) {
      const [error] = injected.splice(errorIndex, 1);
      throw new KmsError(
        error!.type,
        error!.message ?? "",
        error!.status ?? kmsError(error!.type, "").status,
      );
    }
    const handler = Object.hasOwn(OPERATIONS, operation) ? OPERATIONS[operation] : undefined;
    if (handler === undefined) throw kmsError("UnknownOperationException", "");
    let input: Record<string, unknown>;
    try {
      input = body.length === 0 ? {} : JSON.parse(body.toString("utf8"));
    } catch {
      input = [] as unknown as Record<string, unknown>;
    }
    if (input === null || typeof input !== "object" || Array.isArray(input)) {
      throw kmsError("SerializationException", "Start of structure or map found where not expected.");
    }
    const grantTokens = input.GrantTokens;
    if (
      grantTokens !== undefined &&
      (!Array.isArray(grantTokens) ||
        grantTokens.length > 10 ||
        grantTokens.some((token) => typeof token !== "string" || token.length === 0 || token.length > 8192))
    ) {
      throw kmsError(
        "ValidationException",
        "1 validation error detected: Value at 'grantTokens' failed to satisfy constraint: Member must have length less than or equal to 10",
      );
    }
    if (principal.allow !== undefined && !principal.allow.includes(operation)) {
      const resource = typeof input.KeyId === "string" ? input.KeyId : "*";
      throw kmsError(
        "AccessDeniedException",
        `User: arn:aws:iam::${store.account}:user/${principal.accessKeyId} is not authorized to perform: kms:${operation} on resource: ${resource} because no identity-based policy allows the kms:${operation} action`,
      );
    }
    let output = handler(store, requestRegion, input);
    if (!READ_ONLY.has(operation)) save();
    const tamperIndex = tampers.findIndex((tamper) => tamper.operation === operation);
    if (tamperIndex !== -1) output = tampers.splice(tamperIndex, 1)[0]!.transform(output);
    send(response, 200, output);
  }

  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      handle(request, response, Buffer.concat(chunks)).catch((error: unknown) => {
        if (response.destroyed || response.headersSent) return;
        const kms =
          error instanceof KmsError ? error : new KmsError("KMSInternalException", "Internal error.", 500);
        // AWS omits the message where it has none (InvalidCiphertextException).
        const body = kms.message === "" ? { __type: kms.type } : { __type: kms.type, message: kms.message };
        send(response, kms.status, body, kms.type);
      });
    });
  });
  holdIdleConnections(server);
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const clientConfig = (clientOptions: EmulatorClientOptions = {}): EmulatorClientConfig => {
    let credentials = root;
    if (clientOptions.allow !== undefined) {
      credentials = {
        accessKeyId: `AKID${randomUUID().replaceAll("-", "").slice(0, 16).toUpperCase()}`,
        secretAccessKey: randomUUID(),
        allow: [...clientOptions.allow],
      };
      principals.set(credentials.accessKeyId, credentials);
    }
    return {
      ...clientOptions.config,
      endpoint,
      region: clientOptions.region ?? region,
      credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: credentials.secretAccessKey },
    };
  };

  return {
    endpoint,
    region,
    account: store.account,
    credentials: { accessKeyId: root.accessKeyId, secretAccessKey: root.secretAccessKey },
    clientConfig,
    client(clientOptions) {
      const client = new KMSClient(clientConfig(clientOptions));
      clients.push(client);
      return client;
    },
    createKey(keyOptions = {}) {
      const keyRegion = keyOptions.region ?? region;
      const key = store.create({
        region: keyRegion,
        spec: keyOptions.keySpec,
        multiRegion: keyOptions.multiRegion,
        description: keyOptions.description,
      });
      if (keyOptions.alias !== undefined) store.createAlias(keyRegion, keyOptions.alias, key);
      save();
      if (keyOptions.alias === undefined) return { keyId: key.id, arn: key.arn, region: keyRegion };
      return {
        keyId: key.id,
        arn: key.arn,
        region: keyRegion,
        aliasName: keyOptions.alias,
        aliasArn: store.aliasArn(keyRegion, keyOptions.alias),
      };
    },
    describeKey(keyId, keyRegion = region) {
      return keyMetadata(store, store.resolve(keyRegion, keyId));
    },
    faults,
    calls,
    failNext(error, count = 1) {
      for (let i = 0; i < count; i++) injected.push(error);
    },
    tamperNext(operation, transform) {
      tampers.push({ operation, transform });
    },
    async close() {
      for (const client of clients.splice(0)) client.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

function send(
  response: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  errorType?: string,
): void {
  const payload = Buffer.from(JSON.stringify(body), "utf8");
  const headers: Record<string, string | number> = {
    "content-type": JSON_TYPE,
    "content-length": payload.length,
    "x-amzn-requestid": randomUUID(),
  };
  if (errorType !== undefined) headers["x-amzn-errortype"] = errorType;
  response.writeHead(status, headers);
  response.end(payload);
}
