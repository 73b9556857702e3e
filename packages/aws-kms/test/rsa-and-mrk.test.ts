import { ReplicateKeyCommand } from "@aws-sdk/client-kms";
import { createKeyring, decrypt, EnvelopeError, encrypt } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createAwsKmsKek, isSameMultiRegionKey } from "../src/index.js";

const CONTEXT = { tenant: "acme" };
const RSA = "RSAES_OAEP_SHA_256" as const;

async function code(promise: Promise<unknown>): Promise<string> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  return (error as EnvelopeError).code;
}

let emulator: AwsKmsEmulator;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => emulator.calls.reset());

describe("RSA keys: write-only ingestion", () => {
  it("encrypts with only kms:GetPublicKey, once, and zero KMS calls per envelope", async () => {
    const key = emulator.createKey({ keySpec: "RSA_3072", alias: "alias/ingest" });
    // These credentials may call GetPublicKey and nothing else, like an ingestion service's role.
    const writer = createAwsKmsKek({
      keyId: "alias/ingest",
      client: emulator.client({ allow: ["GetPublicKey"] }),
      encryptionAlgorithm: RSA,
    });
    const keyring = createKeyring({ primary: writer });
    const envelopes = [];
    for (let i = 0; i < 20; i++)
      envelopes.push(await encrypt(new Uint8Array([i]), { keyring, context: CONTEXT }));
    expect(emulator.calls.count("GetPublicKey")).toBe(1);
    for (const operation of ["Encrypt", "GenerateDataKey", "Decrypt", "DescribeKey"]) {
      expect(emulator.calls.count(operation)).toBe(0);
    }
    expect(writer.generateDataKey).toBeUndefined();
    // The writer cannot read what it wrote.
    const denied = await decrypt(envelopes[0]!, { keyring }).catch(
      (error: unknown) => error as EnvelopeError,
    );
    expect(denied).toBeInstanceOf(EnvelopeError);
    expect((denied as EnvelopeError).code).toBe("NO_USABLE_KEY");
    expect((denied as EnvelopeError).failures[0]?.error.code).toBe("KEY_ACCESS_DENIED");
    // A reader with only kms:Decrypt can (no GetPublicKey): the envelope records the key ARN, not the alias.
    const reader = createAwsKmsKek({
      keyId: key.arn,
      client: emulator.client({ allow: ["Decrypt"] }),
      encryptionAlgorithm: RSA,
    });
    const result = await decrypt(envelopes[5]!, {
      keyring: createKeyring({ decryptOnly: [reader] }),
      expectedContext: CONTEXT,
    });
    expect([...result.plaintext]).toEqual([5]);
    expect(result.unwrappedWith.keyId).toBe(key.arn);
    expect(emulator.calls.count("Decrypt")).toBe(2);
    expect(emulator.calls.count("GetPublicKey")).toBe(1);
  });

  it("the RSA-wrapped DEK is bound to the context and to its key", async () => {
    const client = emulator.client();
    const kek = createAwsKmsKek({
      keyId: emulator.createKey({ keySpec: "RSA_2048" }).arn,
      client,
      encryptionAlgorithm: RSA,
    });
    const other = createAwsKmsKek({
      keyId: emulator.createKey({ keySpec: "RSA_2048" }).arn,
      client,
      encryptionAlgorithm: RSA,
    });
    const wrapped = await kek.wrap(crypto.getRandomValues(new Uint8Array(32)), CONTEXT);
    const entry = { provider: "aws-kms", ...wrapped };
    expect(await code(kek.unwrap(entry, { tenant: "other" }))).toBe("TAMPERED");
    expect(await code(other.unwrap({ ...entry, keyId: other.keyId }, CONTEXT))).toBe("TAMPERED");
    expect((await kek.unwrap(entry, CONTEXT)).length).toBe(32);
  });

  it("a symmetric key configured for RSA is INVALID_ARGUMENT", async () => {
    const kek = createAwsKmsKek({
      keyId: emulator.createKey().arn,
      client: emulator.client(),
      encryptionAlgorithm: RSA,
    });
    expect(await code(kek.wrap(new Uint8Array(32), CONTEXT))).toBe("INVALID_ARGUMENT");
  });
});

describe("multi-Region keys", () => {
  it("an mrk- replica in another region unwraps what its primary wrapped, when allowed", async () => {
    const primaryKey = emulator.createKey({ multiRegion: true, region: "us-east-1" });
    const east = emulator.client({ region: "us-east-1" });
    const west = emulator.client({ region: "eu-west-1" });
    const replicated = await east.send(
      new ReplicateKeyCommand({ KeyId: primaryKey.arn, ReplicaRegion: "eu-west-1" }),
    );
    const replicaArn = replicated.ReplicaKeyMetadata!.Arn!;
    expect(replicaArn).toBe(primaryKey.arn.replace("us-east-1", "eu-west-1"));
    expect(replicated.ReplicaKeyMetadata!.MultiRegionConfiguration?.MultiRegionKeyType).toBe("REPLICA");
    expect(isSameMultiRegionKey(primaryKey.arn, replicaArn)).toBe(true);

    const envelope = await encrypt(new Uint8Array([4, 2]), {
      keyring: createKeyring({ primary: createAwsKmsKek({ keyId: primaryKey.arn, client: east }) }),
      context: CONTEXT,
    });
    // Strict by default: the replica's ARN is not the one recorded.
    const strict = createAwsKmsKek({ keyId: replicaArn, client: west });
    expect(await code(decrypt(envelope, { keyring: createKeyring({ decryptOnly: [strict] }) }))).toBe(
      "NO_USABLE_KEY",
    );
    expect(emulator.calls.count("Decrypt")).toBe(0);
    // MRK-aware: the replica decrypts in its own region, through its own regional endpoint.
    const aware = createAwsKmsKek({ keyId: replicaArn, client: west, mrkAware: true });
    const result = await decrypt(envelope, {
      keyring: createKeyring({ decryptOnly: [aware] }),
      expectedContext: CONTEXT,
    });
    expect([...result.plaintext]).toEqual([4, 2]);
    expect(result.unwrappedWith.keyId).toBe(primaryKey.arn);
  });

  it("MRK awareness never matches a different key, account or a single-Region key", async () => {
    const mrk = emulator.createKey({ multiRegion: true });
    const aware = createAwsKmsKek({ keyId: mrk.arn, client: emulator.client(), mrkAware: true });
    const otherRegion = mrk.arn.replace("us-east-1", "ap-southeast-2");
    expect(await aware.matches!({ provider: "aws-kms", keyId: otherRegion })).toBe(true);
    expect(
      await aware.matches!({
        provider: "aws-kms",
        keyId: otherRegion.replace("111122223333", "444455556666"),
      }),
    ).toBe(false);
    expect(
      await aware.matches!({ provider: "aws-kms", keyId: emulator.createKey({ multiRegion: true }).arn }),
    ).toBe(false);
    const single = emulator.createKey();
    const singleAware = createAwsKmsKek({ keyId: single.arn, client: emulator.client(), mrkAware: true });
    expect(
      await singleAware.matches!({
        provider: "aws-kms",
        keyId: single.arn.replace("us-east-1", "eu-west-1"),
      }),
    ).toBe(false);
  });
});

describe("RSA answers are checked", () => {
  it("GetPublicKey answering for another key is KEY_ID_MISMATCH", async () => {
    const key = emulator.createKey({ keySpec: "RSA_2048" });
    const kek = createAwsKmsKek({ keyId: key.arn, client: emulator.client(), encryptionAlgorithm: RSA });
    emulator.tamperNext("GetPublicKey", (output) => ({
      ...output,
      KeyId: emulator.createKey({ keySpec: "RSA_2048" }).arn,
    }));
    expect(await code(kek.wrap(new Uint8Array(32), CONTEXT))).toBe("KEY_ID_MISMATCH");
    // Not cached: the next wrap looks the key up again and succeeds.
    expect((await kek.wrap(new Uint8Array(32), CONTEXT)).keyId).toBe(key.arn);
  });
});
