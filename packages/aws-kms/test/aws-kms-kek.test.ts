import { DecryptCommand, DisableKeyCommand } from "@aws-sdk/client-kms";
import { createKeyring, decrypt, EnvelopeError, encrypt, type KeyEncryptionKey } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsKmsKek } from "../src/index.js";

const CONTEXT = { tenant: "acme", purpose: "test" };
const dek = () => crypto.getRandomValues(new Uint8Array(32));
const entry = (kek: KeyEncryptionKey, wrapped: { keyId: string; wrapped: Uint8Array }) => ({
  provider: kek.provider,
  keyId: wrapped.keyId,
  wrapped: wrapped.wrapped,
});

async function rejection(promise: Promise<unknown>): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  return error as EnvelopeError;
}

let emulator: AwsKmsEmulator;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.calls.reset();
  emulator.faults.clear();
});

describe("symmetric keys", () => {
  it("a primary KEK makes one GenerateDataKey call per envelope and records the key ARN", async () => {
    const key = emulator.createKey();
    const kek = createAwsKmsKek({ keyId: key.arn, client: emulator.client() });
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(new TextEncoder().encode("hello"), { keyring, context: CONTEXT });
    expect(emulator.calls.count("GenerateDataKey")).toBe(1);
    expect(emulator.calls.count("Encrypt")).toBe(0);
    expect(emulator.calls.count("DescribeKey")).toBe(0); // a key ARN needs no look-up
    const result = await decrypt(envelope, { keyring, expectedContext: CONTEXT });
    expect(new TextDecoder().decode(result.plaintext)).toBe("hello");
    expect(result.unwrappedWith).toEqual({ provider: "aws-kms", keyId: key.arn });
    expect(emulator.calls.count("Decrypt")).toBe(1);
  });

  it("an extra KEK wraps the same DEK with Encrypt; either key alone decrypts", async () => {
    const client = emulator.client();
    const first = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const second = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const envelope = await encrypt(new Uint8Array([7, 7]), {
      keyring: createKeyring({ primary: first, extra: [second] }),
      context: CONTEXT,
    });
    expect(emulator.calls.count("GenerateDataKey")).toBe(1);
    expect(emulator.calls.count("Encrypt")).toBe(1);
    const result = await decrypt(envelope, { keyring: createKeyring({ decryptOnly: [second] }) });
    expect([...result.plaintext]).toEqual([7, 7]);
    expect(result.unwrappedWith.keyId).toBe(second.keyId);
  });

  it("Decrypt pins the KeyId and passes the envelope's context as EncryptionContext", async () => {
    const key = emulator.createKey();
    const client = emulator.client();
    const kek = createAwsKmsKek({ keyId: key.arn, client });
    const wrapped = await kek.wrap(dek(), CONTEXT);
    // The wrapped bytes are a KMS ciphertext bound to the context: KMS itself refuses them under another one.
    const direct = await client.send(
      new DecryptCommand({ CiphertextBlob: wrapped.wrapped, KeyId: key.arn, EncryptionContext: CONTEXT }),
    );
    expect(direct.KeyId).toBe(key.arn);
    await expect(
      client.send(new DecryptCommand({ CiphertextBlob: wrapped.wrapped, KeyId: key.arn })),
    ).rejects.toMatchObject({
      name: "InvalidCiphertextException",
    });
    expect((await rejection(kek.unwrap(entry(kek, wrapped), { tenant: "other" }))).code).toBe("TAMPERED");
  });

  it("an entry recorded for this key but made by another fails with KEY_ID_MISMATCH (IncorrectKeyException)", async () => {
    const client = emulator.client();
    const mine = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const theirs = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const wrapped = await theirs.wrap(dek(), CONTEXT);
    const error = await rejection(
      mine.unwrap({ provider: "aws-kms", keyId: mine.keyId, wrapped: wrapped.wrapped }, CONTEXT),
    );
    expect(error.code).toBe("KEY_ID_MISMATCH");
    expect((error.cause as Error).name).toBe("IncorrectKeyException");
    // And an entry that names another key is refused before any call.
    emulator.calls.reset();
    expect((await rejection(mine.unwrap(entry(theirs, wrapped), CONTEXT))).code).toBe("KEY_ID_MISMATCH");
    expect(emulator.calls.count("Decrypt")).toBe(0);
  });

  it("a KeyId in KMS's answer other than the expected ARN is KEY_ID_MISMATCH, for every operation", async () => {
    const client = emulator.client();
    const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const elsewhere = emulator.createKey().arn;
    const wrapped = await kek.wrap(dek(), CONTEXT);
    const lie = (output: Record<string, unknown>) => ({ ...output, KeyId: elsewhere });
    emulator.tamperNext("GenerateDataKey", lie);
    expect((await rejection(kek.generateDataKey!(CONTEXT))).code).toBe("KEY_ID_MISMATCH");
    emulator.tamperNext("Encrypt", lie);
    expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_ID_MISMATCH");
    emulator.tamperNext("Decrypt", lie);
    expect((await rejection(kek.unwrap(entry(kek, wrapped), CONTEXT))).code).toBe("KEY_ID_MISMATCH");
    // Without tampering the same calls succeed: the check is what failed above.
    expect((await kek.unwrap(entry(kek, wrapped), CONTEXT)).length).toBe(32);
  });

  it("a data key of the wrong length from KMS is KMS_INTEGRITY", async () => {
    const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
    const wrapped = await kek.wrap(dek(), CONTEXT);
    emulator.tamperNext("Decrypt", (output) => ({
      ...output,
      Plaintext: Buffer.alloc(16).toString("base64"),
    }));
    expect((await rejection(kek.unwrap(entry(kek, wrapped), CONTEXT))).code).toBe("KMS_INTEGRITY");
  });
});

describe("aliases", () => {
  it("an alias name or alias ARN resolves once with DescribeKey; envelopes record the key ARN", async () => {
    const key = emulator.createKey({ alias: "alias/app-data" });
    const client = emulator.client();
    for (const keyId of ["alias/app-data", key.aliasArn!, key.keyId]) {
      emulator.calls.reset();
      const kek = createAwsKmsKek({ keyId, client });
      expect(kek.keyId).toBe(keyId);
      const keyring = createKeyring({ primary: kek });
      const first = await encrypt(new Uint8Array([1]), { keyring, context: CONTEXT });
      await encrypt(new Uint8Array([2]), { keyring, context: CONTEXT });
      expect(emulator.calls.count("DescribeKey")).toBe(1);
      const result = await decrypt(first, { keyring });
      expect(result.unwrappedWith.keyId).toBe(key.arn);
      // A KEK opened by the ARN alone decrypts it: the alias is not in the envelope.
      await decrypt(first, {
        keyring: createKeyring({ decryptOnly: [createAwsKmsKek({ keyId: key.arn, client })] }),
      });
    }
  });

  it("an alias KEK matches entries of its key only", async () => {
    const key = emulator.createKey({ alias: "alias/matching" });
    const kek = createAwsKmsKek({ keyId: "alias/matching", client: emulator.client() });
    expect(await kek.matches!({ provider: "aws-kms", keyId: key.arn })).toBe(true);
    expect(await kek.matches!({ provider: "aws-kms", keyId: emulator.createKey().arn })).toBe(false);
    expect(await kek.matches!({ provider: "local", keyId: key.arn })).toBe(false);
  });

  it("a missing alias is KEY_NOT_FOUND; a failed look-up is not cached", async () => {
    const client = emulator.client();
    const kek = createAwsKmsKek({ keyId: "alias/later", client });
    expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_NOT_FOUND");
    emulator.createKey({ alias: "alias/later" });
    expect((await kek.wrap(dek(), CONTEXT)).keyId).toMatch(/^arn:aws:kms:us-east-1:111122223333:key\//);
  });

  it("an RSA key configured as symmetric is INVALID_ARGUMENT with a hint", async () => {
    emulator.createKey({ keySpec: "RSA_2048", alias: "alias/rsa-by-mistake" });
    const kek = createAwsKmsKek({ keyId: "alias/rsa-by-mistake", client: emulator.client() });
    const error = await rejection(kek.wrap(dek(), CONTEXT));
    expect(error.code).toBe("INVALID_ARGUMENT");
    expect(error.message).toContain("encryptionAlgorithm");
  });
});

describe("ReEncrypt", () => {
  it("re-wraps an entry to another key inside KMS: no Decrypt, no plaintext DEK", async () => {
    const client = emulator.client();
    const from = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const to = createAwsKmsKek({ keyId: emulator.createKey({ alias: "alias/rewrap-target" }).arn, client });
    const original = dek();
    const wrapped = await from.wrap(new Uint8Array(original), CONTEXT);
    emulator.calls.reset();
    const rewrapped = await to.reencrypt!(entry(from, wrapped), CONTEXT);
    expect(rewrapped).toBeDefined();
    expect(emulator.calls.count("ReEncrypt")).toBe(1);
    expect(emulator.calls.count("Decrypt")).toBe(0);
    expect(rewrapped!.keyId).toBe(to.keyId);
    const unwrapped = await to.unwrap(entry(to, rewrapped!), CONTEXT);
    expect(Buffer.from(unwrapped).equals(Buffer.from(original))).toBe(true);
    // The re-wrapped entry keeps the context binding.
    expect((await rejection(to.unwrap(entry(to, rewrapped!), {}))).code).toBe("TAMPERED");
  });

  it("declines what it cannot re-wrap in KMS (another provider, another region, an RSA destination)", async () => {
    const client = emulator.client();
    const to = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const wrapped = { provider: "local", keyId: "k1", wrapped: new Uint8Array(60) };
    expect(await to.reencrypt!(wrapped, CONTEXT)).toBeUndefined();
    const west = emulator.createKey({ region: "eu-west-1" });
    expect(
      await to.reencrypt!({ provider: "aws-kms", keyId: west.arn, wrapped: new Uint8Array(60) }, CONTEXT),
    ).toBeUndefined();
    const rsa = createAwsKmsKek({
      keyId: emulator.createKey({ keySpec: "RSA_2048" }).arn,
      client,
      encryptionAlgorithm: "RSAES_OAEP_SHA_256",
    });
    expect(
      await rsa.reencrypt!({ provider: "aws-kms", keyId: to.keyId, wrapped: new Uint8Array(60) }, CONTEXT),
    ).toBeUndefined();
    expect(emulator.calls.count("ReEncrypt")).toBe(0);
  });

  it("a wrong source context or a disabled destination fails with the mapped code", async () => {
    const client = emulator.client();
    const from = createAwsKmsKek({ keyId: emulator.createKey().arn, client });
    const toKey = emulator.createKey();
    const to = createAwsKmsKek({ keyId: toKey.arn, client });
    const wrapped = await from.wrap(dek(), CONTEXT);
    expect((await rejection(to.reencrypt!(entry(from, wrapped), { tenant: "x" }))).code).toBe("TAMPERED");
    await client.send(new DisableKeyCommand({ KeyId: toKey.arn }));
    expect((await rejection(to.reencrypt!(entry(from, wrapped), CONTEXT))).code).toBe("KEY_DISABLED");
  });
});

describe("grant tokens", () => {
  it("are sent with every call (the emulator validates them as KMS does)", async () => {
    const arn = emulator.createKey().arn;
    const ok = createAwsKmsKek({ keyId: arn, client: emulator.client(), grantTokens: ["grant-token-1"] });
    await ok.unwrap({ provider: "aws-kms", ...(await ok.generateDataKey!(CONTEXT)) }, CONTEXT);
    const tooMany = Array.from({ length: 11 }, (_, i) => `grant-token-${i}`);
    const bad = createAwsKmsKek({ keyId: arn, client: emulator.client(), grantTokens: tooMany });
    expect((await rejection(bad.generateDataKey!(CONTEXT))).code).toBe("INVALID_ARGUMENT");
    expect((await rejection(bad.wrap(dek(), CONTEXT))).code).toBe("INVALID_ARGUMENT");
  });
});

describe("abort", () => {
  it("a signal that has already fired makes no call", async () => {
    const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
    const controller = new AbortController();
    controller.abort();
    expect((await rejection(kek.generateDataKey!(CONTEXT, { signal: controller.signal }))).code).toBe(
      "ABORTED",
    );
    expect(emulator.calls.count("GenerateDataKey")).toBe(0);
  });

  it("an AbortSignal cancels a call in flight with ABORTED", async () => {
    const kek = createAwsKmsKek({ keyId: emulator.createKey().arn, client: emulator.client() });
    emulator.faults.inject({ kind: "latency", delayMs: 5_000, operation: "Encrypt" });
    const controller = new AbortController();
    const started = Date.now();
    setTimeout(() => controller.abort(), 100);
    const error = await rejection(kek.wrap(dek(), CONTEXT, { signal: controller.signal }));
    expect(error.code).toBe("ABORTED");
    expect(Date.now() - started).toBeLessThan(2_000);
  });

  it("one caller's abort during a shared alias look-up does not fail the others", async () => {
    emulator.createKey({ alias: "alias/shared-lookup" });
    const kek = createAwsKmsKek({ keyId: "alias/shared-lookup", client: emulator.client() });
    emulator.faults.inject({ kind: "latency", delayMs: 300, operation: "DescribeKey" });
    const controller = new AbortController();
    const aborted = kek.wrap(dek(), CONTEXT, { signal: controller.signal });
    const patient = kek.wrap(dek(), CONTEXT);
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(aborted)).code).toBe("ABORTED");
    expect((await patient).keyId).toContain(":key/");
  });
});
