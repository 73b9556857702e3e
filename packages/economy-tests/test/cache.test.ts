import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createDataKeyCache, createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTEXT } from "./support.js";

let aws: AwsKmsEmulator;
beforeAll(async () => {
  aws = await startAwsKmsEmulator();
});
afterAll(() => aws.close());

describe("data-key cache, counted at the AWS KMS emulator", () => {
  it("1,000 encrypts make ⌈1000 / maxMessages⌉ GenerateDataKey calls; 1,000 concurrent decrypts of them make one Decrypt per DEK", async () => {
    const kek = createAwsKmsKek({ keyId: aws.createKey().arn, client: aws.client() });
    using cache = createDataKeyCache({
      encrypt: { maxAgeMs: 60_000, maxMessages: 400, maxBytes: 1 << 30 },
      decrypt: { ttlMs: 60_000, capacity: 100 },
    });
    const keyring = createKeyring({ primary: kek, cache });
    aws.calls.reset();
    const envelopes: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++)
      envelopes.push(await encrypt(Buffer.from(`record ${i}`), { keyring, context: CONTEXT }));
    expect(aws.calls.count("GenerateDataKey")).toBe(3);
    const results = await Promise.all(
      envelopes.map((envelope) => decrypt(envelope, { keyring, expectedContext: CONTEXT })),
    );
    expect(aws.calls.count("Decrypt")).toBe(3);
    expect(Buffer.from(results[777]!.plaintext).toString()).toBe("record 777");
  });

  it("without the cache every message is its own KMS call", async () => {
    const kek = createAwsKmsKek({ keyId: aws.createKey().arn, client: aws.client() });
    const keyring = createKeyring({ primary: kek });
    aws.calls.reset();
    const envelopes = [];
    for (let i = 0; i < 20; i++)
      envelopes.push(await encrypt(Buffer.from("x"), { keyring, context: CONTEXT }));
    await Promise.all(envelopes.map((envelope) => decrypt(envelope, { keyring })));
    expect(aws.calls.count("GenerateDataKey")).toBe(20);
    expect(aws.calls.count("Decrypt")).toBe(20);
  });
});
