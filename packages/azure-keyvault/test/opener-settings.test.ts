import { randomBytes } from "node:crypto";
import { chmod, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { CryptographyClientOptions } from "@azure/keyvault-keys";
import {
  createKeyUriRegistry,
  EnvelopeError,
  type ErrorCode,
  type KeyEncryptionKey,
} from "@kms-envelope/core";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AZURE_INSECURE_TEST_TOKEN, azureKeyVaultUriProvider, createAzureKeyVaultKek } from "../src/index.js";

type PipelinePolicy = NonNullable<CryptographyClientOptions["additionalPolicies"]>[number]["policy"];

let emulator: AzureKeyVaultEmulator;
let dir: string;
let caFile: string;
const savedPath = process.env.PATH;
beforeAll(async () => {
  emulator = await startAzureKeyVaultEmulator();
  dir = await mkdtemp(join(tmpdir(), "azure-opener-"));
  caFile = join(dir, "emulator-ca.pem");
  await writeFile(caFile, emulator.ca);
});
afterAll(async () => {
  await emulator.close();
  await rm(dir, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.faults.clear();
  emulator.calls.reset();
});
afterEach(() => {
  process.env.PATH = savedPath;
});

const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;
const location = (id: string) => id.slice("https://".length);
/** Opens a KEK the way a config file would: a URI and data-only settings, no objects. */
const open = (id: string, settings: Record<string, unknown>) =>
  createKeyUriRegistry([azureKeyVaultUriProvider]).open(`azure-keyvault://${location(id)}`, {
    "azure-keyvault": settings,
  });

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  expect((error as EnvelopeError).code, (error as Error).message).toBe(code);
  return error as EnvelopeError;
}

async function roundTrip(kek: KeyEncryptionKey): Promise<string> {
  const dek = randomBytes(32);
  const wrapped = await kek.wrap(dek, {});
  expect(Buffer.from(await kek.unwrap({ provider: kek.provider, ...wrapped }, {}))).toEqual(dek);
  return wrapped.keyId;
}

describe("data-only opener settings, through the real SDK clients", () => {
  it("insecureTestCredentials + caFile reach the emulator over verified TLS with the well-known token", async () => {
    const key = await emulator.createKey(uniqueName("insecure"));
    const kek = await open(key.id, { insecureTestCredentials: true, caFile });
    expect(await roundTrip(kek)).toBe(key.kid);
    expect([emulator.calls.count("WrapKey"), emulator.calls.count("UnwrapKey")]).toEqual([1, 1]);
  });

  it("without caFile the emulator's self-signed certificate is refused", async () => {
    const key = await emulator.createKey(uniqueName("noca"));
    const kek = await open(key.id, {
      insecureTestCredentials: true,
      clientOptions: { retryOptions: { maxRetries: 0 } },
    });
    await expectCode(kek.wrap(randomBytes(32), {}), "KMS_UNAVAILABLE");
  });

  it("an unreadable caFile is INVALID_ARGUMENT", async () => {
    const key = await emulator.createKey(uniqueName("badca"));
    const kek = await open(key.id, { insecureTestCredentials: true, caFile: join(dir, "absent.pem") });
    await expectCode(kek.wrap(randomBytes(32), {}), "INVALID_ARGUMENT");
  });

  it('credential "cli" with tenantId runs `az` (a stand-in on PATH) for the token', async () => {
    const bin = join(dir, "bin");
    const log = join(dir, "az-args.txt");
    await rm(bin, { recursive: true, force: true });
    await mkdir(bin, { recursive: true });
    const expires = Math.floor(Date.now() / 1000) + 3600;
    await writeFile(
      join(bin, "az"),
      `#!/bin/sh\necho "$@" > "${log}"\necho '{"accessToken":"${AZURE_INSECURE_TEST_TOKEN}","expires_on":${expires},"tokenType":"Bearer"}'\n`,
    );
    await chmod(join(bin, "az"), 0o755);
    process.env.PATH = `${bin}:${savedPath}`;
    const key = await emulator.createKey(uniqueName("cli"));
    const kek = await open(key.id, {
      credential: "cli",
      // The tenant the emulator's bearer challenge names: a credential for another tenant refuses it.
      tenantId: "00000000-0000-0000-0000-000000000001",
      caFile,
      clientOptions: { disableChallengeResourceVerification: true },
    });
    expect(await roundTrip(kek)).toBe(key.kid);
    const args = await readFile(log, "utf8");
    expect(args).toContain("get-access-token");
    expect(args).toContain("--tenant 00000000-0000-0000-0000-000000000001");
  });

  it("refuses settings that would be ignored or unsafe", async () => {
    const key = await emulator.createKey(uniqueName("refuse"));
    for (const settings of [
      { credential: "browser" },
      // @azure/identity takes no tenant for these: the identity's own tenant, or AZURE_TENANT_ID.
      { credential: "managed-identity", tenantId: "t" },
      { credential: "environment", tenantId: "t" },
      { insecureTestCredentials: true, credential: "cli" },
      { caFile: 7 },
      { colour: "blue" },
    ]) {
      await expectCode(open(key.id, settings), "INVALID_ARGUMENT");
    }
    expect(() =>
      createAzureKeyVaultKek({
        keyId: "https://myvault.vault.azure.net/keys/k",
        insecureTestCredentials: true,
      }),
    ).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    // From code, where no opener spec checks first: each refused when the KEK is made, before any call.
    const stub = emulator.credential;
    for (const [options, message] of [
      [{ credential: "browser" as never }, /credential must be a TokenCredential or one of default, cli/],
      [{ credential: null as never }, /credential must be a TokenCredential or one of default, cli/],
      [{ credential: stub, tenantId: "t" }, /tenantId is for a created credential/],
      [{ credential: "managed-identity", tenantId: "t" }, /tenantId is only for "default" and "cli"/],
      [{ credential: stub, insecureTestCredentials: true }, /insecureTestCredentials excludes/],
      [{ algorithm: "RSA1_5" as never }, /unsupported Key Vault algorithm "RSA1_5"/],
      [{ keyCacheMs: -1 }, /keyCacheMs must be a number >= 0/],
      [{ keyCacheMs: Number.NaN }, /keyCacheMs must be a number >= 0/],
    ] as const) {
      expect(() => createAzureKeyVaultKek({ keyId: key.id, ...options })).toThrow(
        expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringMatching(message) }),
      );
    }
    expect(emulator.calls.count("GetKey")).toBe(0);
  });
});

describe("key names are case-insensitive", () => {
  it("…/keys/orders opens the key named Orders, records its kid, and owns its entries", async () => {
    const name = uniqueName("Orders");
    const key = await emulator.createKey(name);
    const lower = key.id.replace(`/keys/${name}`, `/keys/${name.toLowerCase()}`);
    expect(lower).not.toBe(key.id);
    const kek = createAzureKeyVaultKek({
      keyId: lower,
      credential: emulator.credential,
      clientOptions: emulator.clientOptions(),
    });
    expect(await roundTrip(kek)).toBe(key.kid);
    expect(await kek.matches!({ provider: "azure-keyvault", keyId: key.kid })).toBe(true);
    expect(await kek.matches!({ provider: "azure-keyvault", keyId: `${key.id}x/${key.version}` })).toBe(
      false,
    );
  });
});

describe("a JWK modulus with a leading zero byte (RFC 7518 §6.3.1.1)", () => {
  it("a vault answering n and e with a leading zero byte still wraps (locally and in the service) and unwraps", async () => {
    // A policy in the SDK's own pipeline rewrites keys/get answers as such a producer would.
    const pad = (value: string) =>
      Buffer.concat([Buffer.of(0), Buffer.from(value, "base64url")]).toString("base64url");
    let padded = 0;
    const padModulus: PipelinePolicy = {
      name: "pad-modulus",
      async sendRequest(request, next) {
        const response = await next(request);
        if (request.method === "GET" && response.status === 200 && response.bodyAsText) {
          const body = JSON.parse(response.bodyAsText) as { key?: { n?: string; e?: string } };
          if (body.key?.n !== undefined && body.key.e !== undefined) {
            body.key.n = pad(body.key.n);
            body.key.e = pad(body.key.e);
            response.bodyAsText = JSON.stringify(body);
            padded++;
          }
        }
        return response;
      },
    };
    const key = await emulator.createKey(uniqueName("padded"));
    for (const wrapLocally of [false, true]) {
      const kek = createAzureKeyVaultKek({
        keyId: key.id,
        credential: emulator.credential,
        clientOptions: emulator.clientOptions({
          additionalPolicies: [{ policy: padModulus, position: "perRetry" }],
        }),
        wrapLocally,
      });
      const dek = randomBytes(32);
      const wrapped = await kek.wrap(dek, {});
      expect(wrapped.wrapped.length).toBe(256);
      expect(Buffer.from(await kek.unwrap({ provider: kek.provider, ...wrapped }, {}))).toEqual(dek);
    }
    // Each KEK read the key once, and saw it padded.
    expect(padded).toBe(2);
  });
});
