import { constants, createPublicKey, publicEncrypt, randomBytes } from "node:crypto";
import { request } from "node:https";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "../src/azure/index.js";

let emulator: AzureKeyVaultEmulator;

beforeAll(async () => {
  emulator = await startAzureKeyVaultEmulator();
});
afterAll(async () => {
  await emulator.close();
});

async function rejection(
  promise: Promise<unknown>,
): Promise<{ statusCode?: number; code?: string; details?: unknown }> {
  try {
    await promise;
  } catch (error) {
    // The SDK's RestError, recognised by name: @azure/core-rest-pipeline is not a direct dependency.
    if (error instanceof Error && error.name === "RestError") return error as never;
    throw error;
  }
  throw new Error("expected a rejection");
}

function rawGet(path: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>((done, fail) => {
    const req = request(`${emulator.vaultUrl}${path}`, { ca: emulator.ca, headers }, (res) => {
      let body = "";
      res.on("data", (chunk) => {
        body += chunk;
      });
      res.on("end", () => done({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on("error", fail);
    req.end();
  });
}

describe("Azure Key Vault emulator over HTTPS", () => {
  it("answers a request without a token with 401 and a bearer challenge, trusting only its own CA", async () => {
    const res = await rawGet("/keys/none/?api-version=7.4");
    expect(res.status).toBe(401);
    expect(String(res.headers["www-authenticate"])).toMatch(
      /^Bearer authorization="https:\/\/login\.microsoftonline\.com\/[0-9a-f-]+", resource="https:\/\/vault\.azure\.net"$/,
    );
    expect(JSON.parse(res.body)).toEqual({ error: { code: "Unauthorized", message: expect.any(String) } });
    await expect(
      new Promise((done, fail) =>
        request(`${emulator.vaultUrl}/keys/x/?api-version=7.4`, done).on("error", fail).end(),
      ),
    ).rejects.toThrow(/self-signed|self signed|unable to verify/i);
  });

  it("a new SDK client meets the challenge once, then sends its token", async () => {
    await emulator.createKey("challenged");
    emulator.calls.reset();
    const client = emulator.client();
    await client.getKey("challenged");
    await client.getKey("challenged");
    expect(emulator.calls.count("Challenge")).toBe(1);
    expect(emulator.calls.count("GetKey")).toBe(2);
  });

  it("rejects api-versions older than 7.4 and unknown tokens", async () => {
    const old = await rawGet("/keys/none/?api-version=7.3", { authorization: "Bearer x" });
    expect(old.status).toBe(400);
    expect(JSON.parse(old.body).error.code).toBe("BadParameter");
    const bad = await rawGet("/keys/none/?api-version=7.4", { authorization: "Bearer not-a-token" });
    expect(bad.status).toBe(401);
    await emulator.createKey("versioned-api");
    const v74 = emulator.client({ clientOptions: { serviceVersion: "7.4" } });
    expect((await v74.getKey("versioned-api")).name).toBe("versioned-api");
    const v73 = emulator.client({ clientOptions: { serviceVersion: "7.3" } });
    expect((await rejection(v73.getKey("versioned-api"))).statusCode).toBe(400);
  });

  it("creates, gets, lists, rotates, disables and deletes RSA keys through the real KeyClient", async () => {
    const client = emulator.client();
    const created = await client.createRsaKey("lifecycle", { keySize: 3072 });
    expect(created.id).toMatch(
      new RegExp(`^${emulator.vaultUrl.replace(/[.[\]]/g, "\\$&")}/keys/lifecycle/[0-9a-f]{32}$`),
    );
    expect(created.keyType).toBe("RSA");
    expect(created.key?.n?.length).toBe(384);
    const rotated = await client.rotateKey("lifecycle");
    expect(rotated.properties.version).not.toBe(created.properties.version);
    const latest = await client.getKey("lifecycle");
    expect(latest.id).toBe(rotated.id);
    const first = await client.getKey("lifecycle", { version: created.properties.version! });
    expect(first.id).toBe(created.id);
    const versions: string[] = [];
    for await (const props of client.listPropertiesOfKeyVersions("lifecycle")) versions.push(props.version!);
    expect(versions.sort()).toEqual([created.properties.version, rotated.properties.version].sort());
    const disabled = await client.updateKeyProperties("lifecycle", created.properties.version!, {
      enabled: false,
    });
    expect(disabled.properties.enabled).toBe(false);
    expect((await client.getKey("lifecycle")).properties.enabled).toBe(true);
    const poller = await client.beginDeleteKey("lifecycle", { intervalInMs: 10 });
    const deleted = await poller.pollUntilDone();
    expect(deleted.name).toBe("lifecycle");
    const missing = await rejection(client.getKey("lifecycle"));
    expect(missing.statusCode).toBe(404);
    expect(missing.code).toBe("KeyNotFound");
    await client.purgeDeletedKey("lifecycle");
    expect((await rejection(client.getDeletedKey("lifecycle"))).statusCode).toBe(404);
  });

  it("wraps with RSA-OAEP-256 exactly as node:crypto does with the public JWK, and unwraps", async () => {
    const key = await emulator.client().createKey("rsa-hsm", "RSA-HSM");
    const crypto = emulator.cryptographyClient(key.id!);
    const dek = randomBytes(32);
    const wrapped = await crypto.wrapKey("RSA-OAEP-256", dek);
    expect(wrapped.result.length).toBe(256);
    expect(Buffer.from((await crypto.unwrapKey("RSA-OAEP-256", wrapped.result)).result)).toEqual(dek);
    const jwk = {
      kty: "RSA",
      n: Buffer.from(key.key!.n!).toString("base64url"),
      e: Buffer.from(key.key!.e!).toString("base64url"),
    };
    const local = publicEncrypt(
      {
        key: createPublicKey({ key: jwk, format: "jwk" }),
        padding: constants.RSA_PKCS1_OAEP_PADDING,
        oaepHash: "sha256",
      },
      dek,
    );
    expect(Buffer.from((await crypto.unwrapKey("RSA-OAEP-256", local)).result)).toEqual(dek);
    const tampered = Buffer.from(wrapped.result);
    tampered[10]! ^= 1;
    const failure = await rejection(crypto.unwrapKey("RSA-OAEP-256", tampered));
    expect(failure.statusCode).toBe(400);
    expect(failure.code).toBe("BadParameter");
  });

  it("wraps with A256KW (RFC 3394) on oct-HSM keys and exposes no key material", async () => {
    const key = await emulator.client().createOctKey("aes", { hsm: true, keySize: 256 });
    expect(key.keyType).toBe("oct-HSM");
    expect(key.key?.k).toBeUndefined();
    const crypto = emulator.cryptographyClient(key.id!);
    const dek = randomBytes(32);
    const wrapped = await crypto.wrapKey("A256KW", dek);
    expect(wrapped.result.length).toBe(40);
    expect(Buffer.from((await crypto.unwrapKey("A256KW", wrapped.result)).result)).toEqual(dek);
    const tampered = Buffer.from(wrapped.result);
    tampered[0]! ^= 1;
    expect((await rejection(crypto.unwrapKey("A256KW", tampered))).code).toBe("BadParameter");
  });

  it("refuses operations on a disabled key with 403 Forbidden / KeyDisabled", async () => {
    const key = await emulator.createKey("disabled", { enabled: false });
    const failure = await rejection(
      emulator.cryptographyClient(key.kid).wrapKey("RSA-OAEP-256", randomBytes(32)),
    );
    expect(failure.statusCode).toBe(403);
    expect(failure.code).toBe("Forbidden");
    expect(failure.details).toMatchObject({ error: { innerError: { code: "KeyDisabled" } } });
  });

  it("checks each token's permissions", async () => {
    const key = await emulator.createKey("perm");
    const wrapOnly = emulator.credentialWith(["get", "wrapKey"]);
    const crypto = emulator.cryptographyClient(key.kid, { credential: wrapOnly });
    const wrapped = await crypto.wrapKey("RSA-OAEP-256", randomBytes(32));
    const failure = await rejection(crypto.unwrapKey("RSA-OAEP-256", wrapped.result));
    expect(failure.statusCode).toBe(403);
    expect(failure.details).toMatchObject({
      error: { code: "Forbidden", innerError: { code: "ForbiddenByPolicy" } },
    });
  });

  it("serves on localhost too: the SDK parses kids with a host name and a port", async () => {
    const other = await startAzureKeyVaultEmulator({ host: "localhost" });
    try {
      expect(other.vaultUrl).toMatch(/^https:\/\/localhost:\d+$/);
      const key = await other.client().createRsaKey("hosted");
      expect(key.id?.startsWith(`${other.vaultUrl}/keys/hosted/`)).toBe(true);
      const crypto = other.cryptographyClient(key.id!);
      const dek = randomBytes(32);
      const wrapped = await crypto.wrapKey("RSA-OAEP-256", dek);
      expect(Buffer.from((await crypto.unwrapKey("RSA-OAEP-256", wrapped.result)).result)).toEqual(dek);
    } finally {
      await other.close();
    }
  });

  it("refuses an operation the key's key_ops leave out", async () => {
    const key = await emulator.client().createRsaKey("wrap-only", { keyOps: ["wrapKey"] });
    // Built from the kid string, the CryptographyClient reads the key and checks key_ops itself first;
    // a client on a raw kid with no get permission goes straight to the service.
    const crypto = emulator.cryptographyClient(key.id!, {
      credential: emulator.credentialWith(["wrapKey", "unwrapKey"]),
    });
    const wrapped = await crypto.wrapKey("RSA-OAEP-256", randomBytes(32));
    const failure = await rejection(crypto.unwrapKey("RSA-OAEP-256", wrapped.result));
    expect(failure.statusCode).toBe(403);
    expect(failure.details).toMatchObject({ error: { innerError: { code: "KeyOperationForbidden" } } });
  });

  it("injects throttling with Retry-After (retried by the SDK), 5xx, resets and latency", async () => {
    const key = await emulator.createKey("faulty");
    const client = emulator.client();
    emulator.calls.reset();
    emulator.faults.inject({ kind: "throttle", operation: "GetKey", delayMs: 0 });
    await client.getKey("faulty");
    expect(emulator.calls.count("GetKey")).toBe(1);
    expect(emulator.faults.pending).toBe(0);

    const noRetry = emulator.client({ clientOptions: { retryOptions: { maxRetries: 0 } } });
    emulator.faults.inject({ kind: "throttle", operation: "GetKey", delayMs: 2000 });
    const throttled = await rejection(noRetry.getKey("faulty"));
    expect(throttled.statusCode).toBe(429);
    expect(throttled.code).toBe("Throttled");

    emulator.faults.inject({ kind: "unavailable", operation: "GetKey" }, 4);
    expect((await rejection(client.getKey("faulty"))).statusCode).toBe(503);

    emulator.faults.inject({ kind: "reset", operation: "GetKey" });
    expect((await client.getKey("faulty")).id).toBe(key.kid);

    emulator.faults.inject({ kind: "latency", operation: "GetKey", delayMs: 5000 });
    const started = Date.now();
    await expect(client.getKey("faulty", { abortSignal: AbortSignal.timeout(100) })).rejects.toMatchObject({
      name: "AbortError",
    });
    expect(Date.now() - started).toBeLessThan(2000);
  });
});
