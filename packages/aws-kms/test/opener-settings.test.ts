import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  createKeyUriRegistry,
  EnvelopeError,
  type ErrorCode,
  type KeyEncryptionKey,
} from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AWS_INSECURE_TEST_CREDENTIALS, awsKmsUriProvider, createAwsKmsKek } from "../src/index.js";

const dek = () => crypto.getRandomValues(new Uint8Array(32));

async function rejection(promise: Promise<unknown>, code: ErrorCode): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  expect((error as EnvelopeError).code, (error as Error).message).toBe(code);
  return error as EnvelopeError;
}

let emulator: AwsKmsEmulator;
let home: string;
const savedEnv = { ...process.env };
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
  home = await mkdtemp(join(tmpdir(), "aws-opener-"));
});
afterAll(async () => {
  await emulator.close();
  await rm(home, { recursive: true, force: true });
});
beforeEach(() => {
  emulator.calls.reset();
  emulator.faults.clear();
});
afterEach(() => {
  for (const name of [
    "AWS_EC2_METADATA_DISABLED",
    "AWS_REGION",
    "AWS_DEFAULT_REGION",
    "AWS_SHARED_CREDENTIALS_FILE",
    "AWS_CONFIG_FILE",
  ]) {
    if (savedEnv[name] === undefined) delete process.env[name];
    else process.env[name] = savedEnv[name];
  }
});

/** Opens a KEK the way a config file would: a URI and data-only settings, no client object. */
const open = (uri: string, settings: Record<string, unknown>): Promise<KeyEncryptionKey> =>
  createKeyUriRegistry([awsKmsUriProvider]).open(uri, { "aws-kms": settings });

async function roundTrip(kek: KeyEncryptionKey): Promise<string> {
  const wrapped = await kek.wrap(dek(), { app: "opener" });
  const plain = await kek.unwrap({ provider: "aws-kms", ...wrapped }, { app: "opener" });
  expect(plain.length).toBe(32);
  return wrapped.keyId;
}

describe("data-only opener settings, through the real SDK client", () => {
  it("endpoint + insecureTestCredentials reach the emulator with the well-known test credentials", async () => {
    const key = emulator.createKey();
    const kek = await open(`aws-kms://${key.arn}`, {
      endpoint: emulator.endpoint,
      insecureTestCredentials: true,
    });
    expect(await roundTrip(kek)).toBe(key.arn);
    expect(emulator.calls.count("Encrypt")).toBe(1);
  });

  it("insecureTestCredentials is refused for a non-loopback or missing endpoint", async () => {
    const key = emulator.createKey();
    await rejection(
      open(`aws-kms://${key.arn}`, {
        endpoint: "https://kms.us-east-1.amazonaws.com",
        insecureTestCredentials: true,
      }),
      "INVALID_ARGUMENT",
    );
    await rejection(open(`aws-kms://${key.arn}`, { insecureTestCredentials: true }), "INVALID_ARGUMENT");
  });

  it("an endpoint must be a URL, and https:// unless it is loopback (a DEK would cross the network in clear)", async () => {
    const key = emulator.createKey();
    for (const endpoint of ["http://kms.us-east-1.amazonaws.com", "kms.us-east-1.amazonaws.com"]) {
      const error = await rejection(open(`aws-kms://${key.arn}`, { endpoint }), "INVALID_ARGUMENT");
      expect(error.message).toContain(endpoint);
    }
    // Not through the opener either: the factory checks what code passes.
    expect(() =>
      createAwsKmsKek({ keyId: key.arn, clientConfig: { endpoint: "http://10.0.0.1:4566" } }),
    ).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(emulator.calls.count("Encrypt")).toBe(0);
  });

  it("region from AWS_REGION, then AWS_DEFAULT_REGION, for a key id without ?region=", async () => {
    const key = emulator.createKey({ region: "eu-west-3" });
    process.env.AWS_DEFAULT_REGION = "eu-west-3";
    const fromDefault = await open(`aws-kms://${key.keyId}`, {
      endpoint: emulator.endpoint,
      insecureTestCredentials: true,
    });
    expect(await roundTrip(fromDefault)).toBe(key.arn);
    process.env.AWS_REGION = "eu-west-3";
    process.env.AWS_DEFAULT_REGION = "ap-south-1";
    const fromRegion = await open(`aws-kms://${key.keyId}`, {
      endpoint: emulator.endpoint,
      insecureTestCredentials: true,
    });
    expect(await roundTrip(fromRegion)).toBe(key.arn);
    delete process.env.AWS_REGION;
    delete process.env.AWS_DEFAULT_REGION;
    await rejection(open(`aws-kms://${key.keyId}`, { endpoint: emulator.endpoint }), "INVALID_ARGUMENT");
  });

  it("the region setting picks the region a key id is looked up in", async () => {
    const key = emulator.createKey({ region: "ca-central-1" });
    const kek = await open(`aws-kms://${key.keyId}`, {
      region: "ca-central-1",
      endpoint: emulator.endpoint,
      insecureTestCredentials: true,
    });
    expect(await roundTrip(kek)).toBe(key.arn);
  });

  it("profile reads credentials from the shared credentials file", async () => {
    const credentials = join(home, "credentials");
    await writeFile(
      credentials,
      `[emulator]\naws_access_key_id = ${emulator.credentials.accessKeyId}\naws_secret_access_key = ${emulator.credentials.secretAccessKey}\n`,
    );
    process.env.AWS_SHARED_CREDENTIALS_FILE = credentials;
    process.env.AWS_CONFIG_FILE = join(home, "no-config");
    const key = emulator.createKey();
    const kek = await open(`aws-kms://${key.arn}`, { endpoint: emulator.endpoint, profile: "emulator" });
    expect(await roundTrip(kek)).toBe(key.arn);
    // No such profile, and no instance metadata to fall back on: no credentials at all.
    process.env.AWS_EC2_METADATA_DISABLED = "true";
    const missing = await open(`aws-kms://${key.arn}`, { endpoint: emulator.endpoint, profile: "nobody" });
    await rejection(missing.wrap(dek(), {}), "KEY_ACCESS_DENIED");
  });

  it("maxAttempts and retryMode configure the created client's retries", async () => {
    const key = emulator.createKey();
    const settings = { endpoint: emulator.endpoint, insecureTestCredentials: true };
    const once = await open(`aws-kms://${key.arn}`, { ...settings, maxAttempts: 1, retryMode: "standard" });
    emulator.faults.inject({ kind: "throttle" }, 1);
    await rejection(once.wrap(dek(), {}), "KMS_THROTTLED");
    expect(emulator.calls.count("Encrypt")).toBe(1);
    emulator.calls.reset();
    const twice = await open(`aws-kms://${key.arn}`, { ...settings, maxAttempts: 2, retryMode: "adaptive" });
    emulator.faults.inject({ kind: "throttle" }, 1);
    await twice.wrap(dek(), {});
    expect(emulator.calls.count("Encrypt")).toBe(2);
    await rejection(open(`aws-kms://${key.arn}`, { ...settings, retryMode: "legacy" }), "INVALID_ARGUMENT");
  });

  it("a setting that configures a created client is refused next to an injected client", async () => {
    const key = emulator.createKey();
    expect(() =>
      createAwsKmsKek({ keyId: key.arn, client: emulator.client(), endpoint: emulator.endpoint }),
    ).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    expect(() => createAwsKmsKek({ keyId: key.arn, client: emulator.client(), profile: "p" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("close() releases a created client (the next call makes a new one) and leaves an injected one open", async () => {
    const key = emulator.createKey();
    const created = createAwsKmsKek({
      keyId: key.arn,
      endpoint: emulator.endpoint,
      insecureTestCredentials: true,
    });
    await roundTrip(created);
    await created.close!();
    expect(await roundTrip(created)).toBe(key.arn);
    const client = emulator.client();
    const injected = createAwsKmsKek({ keyId: key.arn, client });
    await injected.close!();
    expect(await roundTrip(injected)).toBe(key.arn);
    expect(emulator.calls.count("Encrypt")).toBe(3);
  });

  it("the test credentials are the emulator's well-known pair and nothing else", () => {
    expect(AWS_INSECURE_TEST_CREDENTIALS.accessKeyId).toBe("KMSENVELOPETESTONLY");
    expect(Object.isFrozen(AWS_INSECURE_TEST_CREDENTIALS)).toBe(true);
  });
});

describe("GetPublicKey answers and the error table (AWS KMS API reference)", () => {
  it("an RSA ENCRYPT_DECRYPT key whose answer lacks EncryptionAlgorithms is accepted on its KeyUsage", async () => {
    const key = emulator.createKey({ keySpec: "RSA_2048" });
    emulator.tamperNext("GetPublicKey", ({ EncryptionAlgorithms: _omitted, ...rest }) => rest);
    const kek = createAwsKmsKek({
      keyId: key.arn,
      client: emulator.client(),
      encryptionAlgorithm: "RSAES_OAEP_SHA_256",
    });
    expect(await roundTrip(kek)).toBe(key.arn);
  });

  it("an answer with neither EncryptionAlgorithms nor KeyUsage says what is missing", async () => {
    const key = emulator.createKey({ keySpec: "RSA_2048" });
    emulator.tamperNext("GetPublicKey", ({ EncryptionAlgorithms: _a, KeyUsage: _u, ...rest }) => rest);
    const kek = createAwsKmsKek({
      keyId: key.arn,
      client: emulator.client(),
      encryptionAlgorithm: "RSAES_OAEP_SHA_256",
    });
    const error = await rejection(kek.wrap(dek(), {}), "INVALID_ARGUMENT");
    expect(error.message).toContain("names neither its encryption algorithms nor its key usage");
  });

  it("InvalidKeyUsageException is INVALID_ARGUMENT and not retryable", async () => {
    const key = emulator.createKey();
    emulator.failNext({ type: "InvalidKeyUsageException", message: "KeyUsage is SIGN_VERIFY" });
    const error = await rejection(
      createAwsKmsKek({ keyId: key.arn, client: emulator.client({ config: { maxAttempts: 1 } }) }).wrap(
        dek(),
        {},
      ),
      "INVALID_ARGUMENT",
    );
    expect(error.retryable).toBe(false);
    expect((error.cause as Error).name).toBe("InvalidKeyUsageException");
  });
});
