import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { PackageDefinition } from "@grpc/proto-loader";
import { createJsonCodec } from "./json-codec.js";
import type { createKmsService, Wire } from "./kms-service.js";
import { SERVICE_NAME } from "./protos.js";
import { KmsStatusError } from "./status.js";

const PACKAGE = "google.cloud.kms.v1";
const VERSION = /\/cryptoKeyVersions\/[^/]+$/;
const KEY = /\/cryptoKeys\/[^/]+$/;
const RING = /\/keyRings\/[^/]+$/;

interface Route {
  readonly method: string;
  /** Fields taken from the path. */
  readonly fields: Wire;
  /** Where the JSON body goes: "*" for the whole request, else that field. */
  readonly body?: string;
  /** For PATCH: the path is the `name` of the body message (`{crypto_key_version.name=…}`). */
  readonly bodyName?: string;
}

/** The google.api.http bindings of the RPCs the emulator implements (service.proto). */
function route(verb: string, path: string): Route | undefined {
  const colon = path.lastIndexOf(":");
  if (verb === "POST" && colon > path.lastIndexOf("/")) {
    const name = path.slice(0, colon);
    const custom: Record<string, string> = {
      encrypt: "Encrypt",
      decrypt: "Decrypt",
      asymmetricDecrypt: "AsymmetricDecrypt",
      updatePrimaryVersion: "UpdateCryptoKeyPrimaryVersion",
      destroy: "DestroyCryptoKeyVersion",
    };
    const method = custom[path.slice(colon + 1)];
    return method === undefined ? undefined : { method, fields: { name }, body: "*" };
  }
  if (verb === "GET") {
    if (path.endsWith("/publicKey"))
      return { method: "GetPublicKey", fields: { name: path.slice(0, -"/publicKey".length) } };
    if (VERSION.test(path)) return { method: "GetCryptoKeyVersion", fields: { name: path } };
    if (KEY.test(path)) return { method: "GetCryptoKey", fields: { name: path } };
    if (RING.test(path)) return { method: "GetKeyRing", fields: { name: path } };
    return undefined;
  }
  if (verb === "POST") {
    const parent = path.slice(0, path.lastIndexOf("/"));
    if (path.endsWith("/keyRings")) return { method: "CreateKeyRing", fields: { parent }, body: "keyRing" };
    if (path.endsWith("/cryptoKeys"))
      return { method: "CreateCryptoKey", fields: { parent }, body: "cryptoKey" };
    if (path.endsWith("/cryptoKeyVersions")) {
      return { method: "CreateCryptoKeyVersion", fields: { parent }, body: "cryptoKeyVersion" };
    }
    return undefined;
  }
  if (verb === "PATCH" && VERSION.test(path)) {
    return { method: "UpdateCryptoKeyVersion", fields: {}, body: "cryptoKeyVersion", bodyName: path };
  }
  return undefined;
}

/**
 * The HTTP/JSON mapping the client's REST fallback (`fallback: true`) speaks:
 * `/v1/{name}:encrypt` and friends, proto3 JSON bodies, errors as a
 * google.rpc.Status with the HTTP status Google's frontends use.
 */
export function createRestServer(
  definition: PackageDefinition,
  kms: ReturnType<typeof createKmsService>,
): Server {
  const codec = createJsonCodec(definition);
  const service = definition[SERVICE_NAME] as unknown as Record<
    string,
    { responseType: { type: { name: string } } }
  >;

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? "/", "http://emulator");
    const path = decodeURIComponent(url.pathname).replace(/^\/v1\//, "");
    const matched = url.pathname.startsWith("/v1/") ? route(req.method ?? "GET", path) : undefined;
    if (matched === undefined) {
      throw new KmsStatusError(
        "NOT_FOUND",
        `No REST route for ${req.method} ${url.pathname} in the Cloud KMS emulator.`,
      );
    }
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const text = Buffer.concat(chunks).toString("utf8");
    let body: Wire = {};
    try {
      body = text.trim() === "" ? {} : (JSON.parse(text) as Wire);
    } catch {
      throw new KmsStatusError("INVALID_ARGUMENT", "Invalid JSON payload received.");
    }
    const query: Wire = {};
    for (const [key, value] of url.searchParams) {
      if (key.startsWith("$")) continue;
      query[key] = value === "true" ? true : value === "false" ? false : value;
    }
    const json =
      matched.body === "*"
        ? { ...query, ...body, ...matched.fields }
        : {
            ...query,
            ...matched.fields,
            [matched.body ?? "_"]:
              matched.bodyName === undefined ? body : { ...body, name: matched.bodyName },
          };
    const request = codec.fromJson(`${PACKAGE}.${matched.method}Request`, json);
    const response = await kms.call(matched.method, request, { drop: () => req.socket.destroy() });
    const responseType = `${PACKAGE}.${service[matched.method]!.responseType.type.name}`;
    const payload = JSON.stringify(codec.toJson(responseType, response));
    res.writeHead(200, { "content-type": "application/json; charset=UTF-8" }).end(payload);
  }

  return createServer((req, res) => {
    handle(req, res).catch((error: unknown) => {
      if (req.socket.destroyed || res.headersSent) return;
      const status =
        error instanceof KmsStatusError
          ? error
          : new KmsStatusError("INTERNAL", "Internal error in the Cloud KMS emulator.");
      const payload = JSON.stringify({
        error: { code: status.httpStatus, message: status.message, status: status.status },
      });
      res.writeHead(status.httpStatus, { "content-type": "application/json; charset=UTF-8" }).end(payload);
    });
  });
}
