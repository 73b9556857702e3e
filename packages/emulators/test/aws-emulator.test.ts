import { constants, createPublicKey, publicEncrypt } from "node:crypto";
import {
  CancelKeyDeletionCommand,
  CreateAliasCommand,
  CreateKeyCommand,
  DecryptCommand,
  DescribeKeyCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  EncryptCommand,
  GenerateDataKeyCommand,
  GenerateDataKeyWithoutPlaintextCommand,
  GetPublicKeyCommand,
  KMSClient,
  ReEncryptCommand,
  ReplicateKeyCommand,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "../src/aws/index.js";

let emulator: AwsKmsEmulator;
let kms: KMSClient;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
  kms = emulator.client({ config: { maxAttempts: 1 } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.faults.clear();
  emulator.calls.reset();
});

/** The AWS error a call fails with: its type (the SDK's `name`) and HTTP status. */
async function awsError(
  promise: Promise<unknown>,
): Promise<{ name: string; status: number | undefined; message: string }> {
  const error = (await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  )) as { name: string; message: string; $metadata?: { httpStatusCode?: number } } | undefined;
  expect(error, "expected the call to fail").toBeDefined();
  return { name: error!.name, status: error!.$metadata?.httpStatusCode, message: error!.message };
}

const raw = (headers: Record<string, string>, body = "{}") =>
  fetch(emulator.endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", ...headers },
    body,
  });

describe("protocol and authentication", () => {
  it("rejects a request without a SigV4 Authorization header", async () => {
    const response = await raw({ "x-amz-target": "TrentService.DescribeKey" });
    expect(response.status).toBe(400);
    expect(await response.json()).toEqual({
      __type: "MissingAuthenticationTokenException",
      message: "Missing Authentication Token",
    });
  });

  it("rejects a forged signature, a wrong secret and an unknown access key", async () => {
    const forged = await raw({
      "x-amz-target": "TrentService.DescribeKey",
      "x-amz-date": "20261122T000000Z",
      authorization: `AWS4-HMAC-SHA256 Credential=${emulator.credentials.accessKeyId}/20261122/us-east-1/kms/aws4_request, SignedHeaders=host;x-amz-date, Signature=${"0".repeat(64)}`,
    });
    expect(forged.status).toBe(400);
    expect(((await forged.json()) as { __type: string }).__type).toBe("InvalidSignatureException");
    const config = emulator.clientConfig({ config: { maxAttempts: 1 } });
    const wrong = new KMSClient({
      ...config,
      credentials: { ...emulator.credentials, secretAccessKey: "not-the-secret" },
    });
    expect(
      (await awsError(wrong.send(new DescribeKeyCommand({ KeyId: emulator.createKey().arn })))).name,
    ).toBe("InvalidSignatureException");
    const unknown = new KMSClient({
      ...config,
      credentials: { accessKeyId: "AKIDNOBODY", secretAccessKey: "x" },
    });
    expect((await awsError(unknown.send(new DescribeKeyCommand({ KeyId: "alias/x" })))).name).toBe(
      "UnrecognizedClientException",
    );
    wrong.destroy();
    unknown.destroy();
  });

  it("rejects an unknown operation, signed or not", async () => {
    const response = await raw({ "x-amz-target": "TrentService.MakeCoffee" });
    expect(response.status).toBe(400);
    expect(((await response.json()) as { __type: string }).__type).toBe("UnknownOperationException");
    // Signed: the target is rewritten in the build step, before SigV4 signs the request.
    const client = emulator.client({ config: { maxAttempts: 1 } });
    client.middlewareStack.add(
      (next) => (args) => {
        (args.request as { headers: Record<string, string> }).headers["x-amz-target"] =
          "TrentService.MakeCoffee";
        return next(args);
      },
      { step: "build" },
    );
    expect((await awsError(client.send(new DescribeKeyCommand({ KeyId: "alias/x" })))).name).toBe(
      "UnknownOperationException",
    );
  });

  it("limits a principal to the operations it is allowed (AccessDeniedException)", async () => {
    const key = emulator.createKey();
    const limited = emulator.client({ allow: ["Encrypt"], config: { maxAttempts: 1 } });
    const encrypted = await limited.send(
      new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array([1]) }),
    );
    const denied = await awsError(
      limited.send(new DecryptCommand({ CiphertextBlob: encrypted.CiphertextBlob! })),
    );
    expect(denied).toMatchObject({ name: "AccessDeniedException", status: 400 });
    expect(denied.message).toContain("is not authorized to perform: kms:Decrypt");
  });
});

describe("keys and aliases", () => {
  it("CreateKey: symmetric, RSA and multi-Region keys with AWS-shaped metadata", async () => {
    const symmetric = (await kms.send(new CreateKeyCommand({ Description: "data" }))).KeyMetadata!;
    expect(symmetric).toMatchObject({
      KeySpec: "SYMMETRIC_DEFAULT",
      KeyUsage: "ENCRYPT_DECRYPT",
      KeyState: "Enabled",
      Enabled: true,
    });
    expect(symmetric.Arn).toBe(`arn:aws:kms:us-east-1:111122223333:key/${symmetric.KeyId}`);
    expect(symmetric.CreationDate).toBeInstanceOf(Date);
    const rsa = (await kms.send(new CreateKeyCommand({ KeySpec: "RSA_4096", KeyUsage: "ENCRYPT_DECRYPT" })))
      .KeyMetadata!;
    expect(rsa.EncryptionAlgorithms).toEqual(["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"]);
    const mrk = (await kms.send(new CreateKeyCommand({ MultiRegion: true }))).KeyMetadata!;
    expect(mrk.KeyId).toMatch(/^mrk-[0-9a-f]{32}$/);
    expect(mrk.MultiRegionConfiguration?.MultiRegionKeyType).toBe("PRIMARY");
    expect(
      (await awsError(kms.send(new CreateKeyCommand({ KeySpec: "ECC_NIST_P256", KeyUsage: "SIGN_VERIFY" }))))
        .name,
    ).toBe("UnsupportedOperationException");
  });

  it("CreateAlias; DescribeKey by key id, key ARN, alias name and alias ARN; NotFoundException otherwise", async () => {
    const key = emulator.createKey();
    await kms.send(new CreateAliasCommand({ AliasName: "alias/orders", TargetKeyId: key.keyId }));
    for (const keyId of [
      key.keyId,
      key.arn,
      "alias/orders",
      "arn:aws:kms:us-east-1:111122223333:alias/orders",
    ]) {
      expect((await kms.send(new DescribeKeyCommand({ KeyId: keyId }))).KeyMetadata?.Arn).toBe(key.arn);
    }
    expect(
      (
        await awsError(
          kms.send(new CreateAliasCommand({ AliasName: "alias/orders", TargetKeyId: key.keyId })),
        )
      ).name,
    ).toBe("AlreadyExistsException");
    expect((await awsError(kms.send(new DescribeKeyCommand({ KeyId: "alias/nope" })))).name).toBe(
      "NotFoundException",
    );
    // Keys live in their region: the same ARN is not found from another region.
    const west = emulator.client({ region: "eu-west-1", config: { maxAttempts: 1 } });
    expect((await awsError(west.send(new DescribeKeyCommand({ KeyId: key.arn })))).name).toBe(
      "NotFoundException",
    );
  });

  it("DisableKey, EnableKey, ScheduleKeyDeletion and CancelKeyDeletion change what the key can do", async () => {
    const key = emulator.createKey();
    const encrypt = () => kms.send(new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array([1]) }));
    await kms.send(new DisableKeyCommand({ KeyId: key.arn }));
    expect(await awsError(encrypt())).toMatchObject({ name: "DisabledException", status: 400 });
    await kms.send(new EnableKeyCommand({ KeyId: key.arn }));
    await encrypt();
    const scheduled = await kms.send(
      new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }),
    );
    expect(scheduled.KeyState).toBe("PendingDeletion");
    expect(scheduled.DeletionDate!.getTime()).toBeGreaterThan(Date.now() + 6 * 86_400_000);
    expect((await awsError(encrypt())).name).toBe("KMSInvalidStateException");
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.KeyState).toBe(
      "PendingDeletion",
    );
    await kms.send(new CancelKeyDeletionCommand({ KeyId: key.arn }));
    expect((await kms.send(new DescribeKeyCommand({ KeyId: key.arn }))).KeyMetadata?.KeyState).toBe(
      "Disabled",
    );
    expect(
      (await awsError(kms.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 3 }))))
        .name,
    ).toBe("ValidationException");
  });
});

describe("symmetric cryptography", () => {
  it("GenerateDataKey and GenerateDataKeyWithoutPlaintext; Decrypt needs no KeyId", async () => {
    const key = emulator.createKey();
    const context = { a: "1", b: "2" };
    const generated = await kms.send(
      new GenerateDataKeyCommand({ KeyId: key.arn, NumberOfBytes: 32, EncryptionContext: context }),
    );
    expect(generated.Plaintext?.length).toBe(32);
    expect(generated.KeyId).toBe(key.arn);
    const decrypted = await kms.send(
      new DecryptCommand({
        CiphertextBlob: generated.CiphertextBlob!,
        EncryptionContext: { b: "2", a: "1" },
      }),
    );
    expect(Buffer.from(decrypted.Plaintext!).equals(Buffer.from(generated.Plaintext!))).toBe(true);
    expect(decrypted.KeyId).toBe(key.arn);
    const blind = await kms.send(
      new GenerateDataKeyWithoutPlaintextCommand({ KeyId: key.keyId, KeySpec: "AES_128" }),
    );
    expect(blind).not.toHaveProperty("Plaintext");
    expect(
      (await kms.send(new DecryptCommand({ CiphertextBlob: blind.CiphertextBlob! }))).Plaintext?.length,
    ).toBe(16);
  });

  it("binds the encryption context exactly: different, missing or extra pairs are InvalidCiphertextException", async () => {
    const key = emulator.createKey();
    const blob = (
      await kms.send(
        new EncryptCommand({ KeyId: key.arn, Plaintext: new Uint8Array([5]), EncryptionContext: { t: "x" } }),
      )
    ).CiphertextBlob!;
    for (const context of [{ t: "y" }, undefined, { t: "x", u: "v" }, { T: "x" }]) {
      expect(
        await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionContext: context }))),
      ).toMatchObject({
        name: "InvalidCiphertextException",
        status: 400,
      });
    }
    const corrupted = Buffer.from(blob);
    corrupted[corrupted.length - 1]! ^= 1;
    expect(
      (
        await awsError(
          kms.send(new DecryptCommand({ CiphertextBlob: corrupted, EncryptionContext: { t: "x" } })),
        )
      ).name,
    ).toBe("InvalidCiphertextException");
  });

  it("a KeyId that did not make the ciphertext is IncorrectKeyException", async () => {
    const mine = emulator.createKey();
    const other = emulator.createKey({ alias: "alias/other-key" });
    const blob = (await kms.send(new EncryptCommand({ KeyId: mine.arn, Plaintext: new Uint8Array([5]) })))
      .CiphertextBlob!;
    for (const keyId of [other.arn, "alias/other-key"]) {
      expect(
        (await awsError(kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: keyId })))).name,
      ).toBe("IncorrectKeyException");
    }
    expect((await kms.send(new DecryptCommand({ CiphertextBlob: blob, KeyId: mine.keyId }))).KeyId).toBe(
      mine.arn,
    );
  });

  it("ReEncrypt moves a ciphertext to another key and context without returning plaintext", async () => {
    const from = emulator.createKey();
    const to = emulator.createKey();
    const blob = (
      await kms.send(
        new EncryptCommand({
          KeyId: from.arn,
          Plaintext: new Uint8Array([8, 9]),
          EncryptionContext: { s: "1" },
        }),
      )
    ).CiphertextBlob!;
    const moved = await kms.send(
      new ReEncryptCommand({
        CiphertextBlob: blob,
        SourceKeyId: from.arn,
        SourceEncryptionContext: { s: "1" },
        DestinationKeyId: to.arn,
        DestinationEncryptionContext: { d: "2" },
      }),
    );
    expect(moved).toMatchObject({ SourceKeyId: from.arn, KeyId: to.arn });
    expect(moved).not.toHaveProperty("Plaintext");
    const opened = await kms.send(
      new DecryptCommand({ CiphertextBlob: moved.CiphertextBlob!, EncryptionContext: { d: "2" } }),
    );
    expect([...opened.Plaintext!]).toEqual([8, 9]);
    expect(
      (
        await awsError(
          kms.send(
            new ReEncryptCommand({ CiphertextBlob: blob, SourceKeyId: to.arn, DestinationKeyId: to.arn }),
          ),
        )
      ).name,
    ).toBe("IncorrectKeyException");
  });
});

describe("RSA keys", () => {
  it("GetPublicKey gives an SPKI key; what it encrypts (RSAES_OAEP_SHA_256) Decrypt opens with the KeyId", async () => {
    const key = emulator.createKey({ keySpec: "RSA_2048" });
    const published = await kms.send(new GetPublicKeyCommand({ KeyId: key.arn }));
    expect(published).toMatchObject({ KeyId: key.arn, KeySpec: "RSA_2048", KeyUsage: "ENCRYPT_DECRYPT" });
    const publicKey = createPublicKey({
      key: Buffer.from(published.PublicKey!),
      format: "der",
      type: "spki",
    });
    const blob = publicEncrypt(
      { key: publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      Buffer.from("dek"),
    );
    const opened = await kms.send(
      new DecryptCommand({ CiphertextBlob: blob, KeyId: key.arn, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" }),
    );
    expect(Buffer.from(opened.Plaintext!).toString()).toBe("dek");
    expect(opened.EncryptionAlgorithm).toBe("RSAES_OAEP_SHA_256");
    // Without the KeyId, or with the other OAEP hash, it does not open.
    expect(
      (
        await awsError(
          kms.send(new DecryptCommand({ CiphertextBlob: blob, EncryptionAlgorithm: "RSAES_OAEP_SHA_256" })),
        )
      ).name,
    ).toBe("InvalidCiphertextException");
    expect(
      (
        await awsError(
          kms.send(
            new DecryptCommand({
              CiphertextBlob: blob,
              KeyId: key.arn,
              EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
            }),
          ),
        )
      ).name,
    ).toBe("InvalidCiphertextException");
    // KMS's own Encrypt with the key round-trips too.
    const viaKms = await kms.send(
      new EncryptCommand({
        KeyId: key.arn,
        Plaintext: new Uint8Array([1]),
        EncryptionAlgorithm: "RSAES_OAEP_SHA_1",
      }),
    );
    expect(viaKms.CiphertextBlob?.length).toBe(256);
  });

  it("refuses symmetric-only operations on RSA keys and GetPublicKey on symmetric keys", async () => {
    const rsa = emulator.createKey({ keySpec: "RSA_3072" });
    expect(
      (await awsError(kms.send(new GenerateDataKeyCommand({ KeyId: rsa.arn, NumberOfBytes: 32 })))).name,
    ).toBe("InvalidKeyUsageException");
    expect(
      (await awsError(kms.send(new EncryptCommand({ KeyId: rsa.arn, Plaintext: new Uint8Array([1]) })))).name,
    ).toBe("InvalidKeyUsageException");
    expect(
      (await awsError(kms.send(new GetPublicKeyCommand({ KeyId: emulator.createKey().arn })))).name,
    ).toBe("UnsupportedOperationException");
  });
});

describe("multi-Region keys", () => {
  it("ReplicateKey makes a replica with the same id and key material in another region", async () => {
    const primary = emulator.createKey({ multiRegion: true });
    const replica = (
      await kms.send(new ReplicateKeyCommand({ KeyId: primary.arn, ReplicaRegion: "ap-southeast-2" }))
    ).ReplicaKeyMetadata!;
    expect(replica.Arn).toBe(`arn:aws:kms:ap-southeast-2:111122223333:key/${primary.keyId}`);
    expect(replica.MultiRegionConfiguration).toMatchObject({
      MultiRegionKeyType: "REPLICA",
      PrimaryKey: { Arn: primary.arn, Region: "us-east-1" },
    });
    const described = (await kms.send(new DescribeKeyCommand({ KeyId: primary.arn }))).KeyMetadata!;
    expect(described.MultiRegionConfiguration?.ReplicaKeys).toEqual([
      { Arn: replica.Arn, Region: "ap-southeast-2" },
    ]);
    const blob = (
      await kms.send(
        new EncryptCommand({
          KeyId: primary.arn,
          Plaintext: new Uint8Array([3]),
          EncryptionContext: { r: "1" },
        }),
      )
    ).CiphertextBlob!;
    const sydney = emulator.client({ region: "ap-southeast-2", config: { maxAttempts: 1 } });
    const opened = await sydney.send(
      new DecryptCommand({ CiphertextBlob: blob, KeyId: replica.Arn, EncryptionContext: { r: "1" } }),
    );
    expect(opened.KeyId).toBe(replica.Arn);
    expect(
      (
        await awsError(
          kms.send(new ReplicateKeyCommand({ KeyId: primary.arn, ReplicaRegion: "ap-southeast-2" })),
        )
      ).name,
    ).toBe("AlreadyExistsException");
    const single = emulator.createKey();
    expect(
      (await awsError(kms.send(new ReplicateKeyCommand({ KeyId: single.arn, ReplicaRegion: "eu-west-1" }))))
        .name,
    ).toBe("UnsupportedOperationException");
    // A single-Region key's ciphertext does not decrypt in another region.
    const local = (await kms.send(new EncryptCommand({ KeyId: single.arn, Plaintext: new Uint8Array([3]) })))
      .CiphertextBlob!;
    expect((await awsError(sydney.send(new DecryptCommand({ CiphertextBlob: local })))).name).toBe(
      "InvalidCiphertextException",
    );
  });
});

describe("fault injection", () => {
  const encrypt = (client = kms) =>
    client.send(new EncryptCommand({ KeyId: emulator.createKey().arn, Plaintext: new Uint8Array([1]) }));

  it("throttle: ThrottlingException (400); unavailable: KMSInternalException (500); then normal service", async () => {
    emulator.faults.inject({ kind: "throttle" });
    emulator.faults.inject({ kind: "unavailable" });
    expect(await awsError(encrypt())).toMatchObject({ name: "ThrottlingException", status: 400 });
    expect(await awsError(encrypt())).toMatchObject({ name: "KMSInternalException", status: 500 });
    await encrypt();
    expect(emulator.calls.count("Encrypt")).toBe(3);
  });

  it("a fault scoped to one operation leaves the others alone", async () => {
    emulator.faults.inject({ kind: "throttle", operation: "Decrypt" });
    await encrypt();
    expect(emulator.faults.pending).toBe(1);
  });

  it("latency delays the answer; reset drops the connection", async () => {
    emulator.faults.inject({ kind: "latency", delayMs: 300 });
    const started = Date.now();
    await encrypt();
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    emulator.faults.inject({ kind: "reset" });
    const reset = (await encrypt().catch((error: unknown) => error)) as {
      name?: string;
      code?: string;
      $metadata?: unknown;
    };
    expect(reset).toBeInstanceOf(Error);
    expect(reset.code ?? reset.name).toMatch(/ECONNRESET|socket hang up|EPIPE/);
  });

  it("failNext answers any KMS error type with its AWS status", async () => {
    emulator.failNext({ type: "KeyUnavailableException", operation: "Encrypt" });
    expect(await awsError(encrypt())).toMatchObject({ name: "KeyUnavailableException", status: 500 });
  });

  it("tamperNext rewrites one response", async () => {
    emulator.tamperNext("Encrypt", (output) => ({
      ...output,
      KeyId: "arn:aws:kms:us-east-1:111122223333:key/forged",
    }));
    expect((await encrypt()).KeyId).toBe("arn:aws:kms:us-east-1:111122223333:key/forged");
    expect((await encrypt()).KeyId).not.toContain("forged");
  });
});

it("listens on the port it is given", async () => {
  const probe = await startAwsKmsEmulator();
  const port = Number(new URL(probe.endpoint).port);
  await probe.close();
  const fixed = await startAwsKmsEmulator({ port, account: "444455556666", region: "eu-north-1" });
  expect(fixed.endpoint).toBe(`http://127.0.0.1:${port}`);
  const key = fixed.createKey();
  expect(key.arn).toMatch(/^arn:aws:kms:eu-north-1:444455556666:key\//);
  expect(
    (await fixed.client().send(new DescribeKeyCommand({ KeyId: key.keyId }))).KeyMetadata?.AWSAccountId,
  ).toBe("444455556666");
  await fixed.close();
});

it("close() stops the server", async () => {
  const temporary = await startAwsKmsEmulator();
  const client = temporary.client({ config: { maxAttempts: 1 } });
  await client.send(new DescribeKeyCommand({ KeyId: temporary.createKey().arn }));
  await temporary.close();
  const after = new KMSClient({ ...temporary.clientConfig(), maxAttempts: 1 });
  await expect(after.send(new DescribeKeyCommand({ KeyId: "alias/x" }))).rejects.toMatchObject({
    code: "ECONNREFUSED",
  });
  after.destroy();
});
