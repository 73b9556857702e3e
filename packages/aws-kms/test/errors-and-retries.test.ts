import {
  CancelKeyDeletionCommand,
  DisableKeyCommand,
  EnableKeyCommand,
  KMSClient,
  ScheduleKeyDeletionCommand,
} from "@aws-sdk/client-kms";
import { EnvelopeError, type ErrorCode, type KeyEncryptionKey } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { AWS_ERROR_CODES, createAwsKmsKek } from "../src/index.js";

const CONTEXT = { tenant: "acme" };
const dek = () => crypto.getRandomValues(new Uint8Array(32));

async function failure(promise: Promise<unknown>, code: ErrorCode, awsName?: string): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  const typed = error as EnvelopeError;
  expect(typed.code).toBe(code);
  if (awsName !== undefined) expect((typed.cause as Error).name).toBe(awsName);
  return typed;
}

let emulator: AwsKmsEmulator;
// No SDK retries, so each fault surfaces as the error it maps to.
let once: KMSClient;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
  once = emulator.client({ config: { maxAttempts: 1 } });
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.calls.reset();
  emulator.faults.clear();
});

const kekFor = (keyId: string, client: KMSClient = once) => createAwsKmsKek({ keyId, client });

describe("each AWS error maps onto a core code, with the SDK error as cause", () => {
  it("NotFoundException → KEY_NOT_FOUND", async () => {
    const missing = "arn:aws:kms:us-east-1:111122223333:key/00000000-0000-4000-8000-000000000000";
    await failure(kekFor(missing).wrap(dek(), CONTEXT), "KEY_NOT_FOUND", "NotFoundException");
  });

  it("DisabledException → KEY_DISABLED, until EnableKey", async () => {
    const key = emulator.createKey();
    const kek = kekFor(key.arn);
    const wrapped = await kek.wrap(dek(), CONTEXT);
    await once.send(new DisableKeyCommand({ KeyId: key.arn }));
    await failure(kek.wrap(dek(), CONTEXT), "KEY_DISABLED", "DisabledException");
    await failure(
      kek.unwrap({ provider: "aws-kms", ...wrapped }, CONTEXT),
      "KEY_DISABLED",
      "DisabledException",
    );
    await once.send(new EnableKeyCommand({ KeyId: key.arn }));
    expect((await kek.unwrap({ provider: "aws-kms", ...wrapped }, CONTEXT)).length).toBe(32);
  });

  it("KMSInvalidStateException (pending deletion) → KEY_DISABLED; a cancelled deletion leaves the key disabled", async () => {
    const key = emulator.createKey();
    const kek = kekFor(key.arn);
    await once.send(new ScheduleKeyDeletionCommand({ KeyId: key.arn, PendingWindowInDays: 7 }));
    await failure(kek.generateDataKey!(CONTEXT), "KEY_DISABLED", "KMSInvalidStateException");
    await once.send(new CancelKeyDeletionCommand({ KeyId: key.arn }));
    await failure(kek.generateDataKey!(CONTEXT), "KEY_DISABLED", "DisabledException");
  });

  it("AccessDeniedException → KEY_ACCESS_DENIED", async () => {
    const kek = kekFor(
      emulator.createKey().arn,
      emulator.client({ allow: ["Decrypt"], config: { maxAttempts: 1 } }),
    );
    const error = await failure(kek.wrap(dek(), CONTEXT), "KEY_ACCESS_DENIED", "AccessDeniedException");
    expect(error.retryable).toBe(false);
  });

  it("bad credentials (wrong secret, unknown access key) → KEY_ACCESS_DENIED", async () => {
    const arn = emulator.createKey().arn;
    const config = emulator.clientConfig();
    const wrongSecret = new KMSClient({
      ...config,
      credentials: { ...emulator.credentials, secretAccessKey: "wrong" },
    });
    await failure(
      kekFor(arn, wrongSecret).wrap(dek(), CONTEXT),
      "KEY_ACCESS_DENIED",
      "InvalidSignatureException",
    );
    const unknown = new KMSClient({
      ...config,
      credentials: { accessKeyId: "AKIDUNKNOWN", secretAccessKey: "x" },
    });
    await failure(
      kekFor(arn, unknown).wrap(dek(), CONTEXT),
      "KEY_ACCESS_DENIED",
      "UnrecognizedClientException",
    );
    wrongSecret.destroy();
    unknown.destroy();
  });

  it("InvalidCiphertextException → TAMPERED; IncorrectKeyException → KEY_ID_MISMATCH", async () => {
    const kek = kekFor(emulator.createKey().arn);
    const wrapped = await kek.wrap(dek(), CONTEXT);
    const flipped = new Uint8Array(wrapped.wrapped);
    flipped[flipped.length - 5]! ^= 1;
    await failure(
      kek.unwrap({ provider: "aws-kms", keyId: wrapped.keyId, wrapped: flipped }, CONTEXT),
      "TAMPERED",
      "InvalidCiphertextException",
    );
    const other = kekFor(emulator.createKey().arn);
    await failure(
      other.unwrap({ provider: "aws-kms", keyId: other.keyId, wrapped: wrapped.wrapped }, CONTEXT),
      "KEY_ID_MISMATCH",
      "IncorrectKeyException",
    );
  });

  it("ThrottlingException and LimitExceededException → KMS_THROTTLED (retryable)", async () => {
    const kek = kekFor(emulator.createKey().arn);
    emulator.faults.inject({ kind: "throttle" });
    const throttled = await failure(kek.wrap(dek(), CONTEXT), "KMS_THROTTLED", "ThrottlingException");
    expect(throttled.retryable).toBe(true);
    emulator.failNext({ type: "LimitExceededException", message: "quota" });
    await failure(kek.wrap(dek(), CONTEXT), "KMS_THROTTLED", "LimitExceededException");
  });

  it("KMSInternalException, KeyUnavailableException, DependencyTimeoutException → KMS_UNAVAILABLE (retryable)", async () => {
    const kek = kekFor(emulator.createKey().arn);
    emulator.faults.inject({ kind: "unavailable" });
    expect(
      (await failure(kek.wrap(dek(), CONTEXT), "KMS_UNAVAILABLE", "KMSInternalException")).retryable,
    ).toBe(true);
    emulator.failNext({ type: "KeyUnavailableException" });
    await failure(kek.wrap(dek(), CONTEXT), "KMS_UNAVAILABLE", "KeyUnavailableException");
    emulator.failNext({ type: "DependencyTimeoutException" });
    await failure(kek.wrap(dek(), CONTEXT), "KMS_UNAVAILABLE", "DependencyTimeoutException");
  });

  it("a request timeout, a reset connection and a refused connection → KMS_UNAVAILABLE (a refusal named by its code)", async () => {
    const arn = emulator.createKey().arn;
    const impatient = emulator.client({
      config: { maxAttempts: 1, requestHandler: { requestTimeout: 100, throwOnRequestTimeout: true } },
    });
    emulator.faults.inject({ kind: "latency", delayMs: 2_000 });
    await failure(kekFor(arn, impatient).wrap(dek(), CONTEXT), "KMS_UNAVAILABLE", "TimeoutError");
    emulator.faults.inject({ kind: "reset" });
    // The SDK reports a reset as its TimeoutError (in the table) or as ECONNRESET (placed by the kit).
    await failure(kekFor(arn).wrap(dek(), CONTEXT), "KMS_UNAVAILABLE");
    const nowhere = new KMSClient({
      ...emulator.clientConfig(),
      endpoint: "http://127.0.0.1:9",
      maxAttempts: 1,
    });
    const refused = await failure(kekFor(arn, nowhere).wrap(dek(), CONTEXT), "KMS_UNAVAILABLE");
    expect(refused.message).toMatch(/failed: ECONNREFUSED$/);
    nowhere.destroy();
  });

  it("an unknown error type falls back on its HTTP status: 403, 404, 429 and 5xx", async () => {
    const kek = kekFor(emulator.createKey().arn);
    emulator.failNext({ type: "NewRefusalException", status: 403 });
    const refused = await failure(kek.wrap(dek(), CONTEXT), "KEY_ACCESS_DENIED", "NewRefusalException");
    expect(refused.message).toMatch(/failed: NewRefusalException \(HTTP 403\)$/);
    emulator.failNext({ type: "NewMissingException", status: 404 });
    await failure(kek.wrap(dek(), CONTEXT), "KEY_NOT_FOUND", "NewMissingException");
    emulator.failNext({ type: "SlowDownPleaseException", status: 429 });
    await failure(kek.wrap(dek(), CONTEXT), "KMS_THROTTLED", "SlowDownPleaseException");
    emulator.failNext({ type: "BadGatewayException", status: 502 });
    await failure(kek.wrap(dek(), CONTEXT), "KMS_UNAVAILABLE", "BadGatewayException");
  });

  it("an error type the table does not know → KMS_ERROR, still with its cause", async () => {
    emulator.failNext({ type: "BrandNewException", message: "new" });
    await failure(kekFor(emulator.createKey().arn).wrap(dek(), CONTEXT), "KMS_ERROR", "BrandNewException");
  });

  it("the table only names core codes", () => {
    expect(Object.keys(AWS_ERROR_CODES).length).toBeGreaterThan(20);
    expect(new Set(Object.values(AWS_ERROR_CODES))).toEqual(
      new Set([
        "KEY_ACCESS_DENIED",
        "KEY_NOT_FOUND",
        "KEY_DISABLED",
        "TAMPERED",
        "KEY_ID_MISMATCH",
        "INVALID_ARGUMENT",
        "KMS_THROTTLED",
        "KMS_UNAVAILABLE",
      ]),
    );
  });
});

describe("retries (the SDK's strategy, configured through the KEK)", () => {
  const created = (maxAttempts: number, retryMode?: "standard" | "adaptive"): KeyEncryptionKey => {
    const { endpoint, credentials, region } = emulator.clientConfig();
    return createAwsKmsKek({
      keyId: emulator.createKey().arn,
      maxAttempts,
      retryMode,
      clientConfig: { endpoint, credentials, region },
    });
  };

  it("throttling is retried, then succeeds", async () => {
    const kek = created(3);
    emulator.faults.inject({ kind: "throttle", operation: "GenerateDataKey" }, 2);
    const generated = await kek.generateDataKey!(CONTEXT);
    expect(generated.plaintext.length).toBe(32);
    expect(emulator.calls.count("GenerateDataKey")).toBe(3);
  });

  it("maxAttempts bounds the retries", async () => {
    const kek = created(2);
    emulator.faults.inject({ kind: "throttle", operation: "Encrypt" }, 2);
    await failure(kek.wrap(dek(), CONTEXT), "KMS_THROTTLED");
    expect(emulator.calls.count("Encrypt")).toBe(2);
  });

  it("5xx and reset connections are retried (adaptive mode too)", async () => {
    const kek = created(4, "adaptive");
    const wrapped = await kek.wrap(dek(), CONTEXT);
    emulator.calls.reset();
    emulator.faults.inject({ kind: "unavailable", operation: "Decrypt" });
    emulator.faults.inject({ kind: "reset", operation: "Decrypt" });
    expect((await kek.unwrap({ provider: "aws-kms", ...wrapped }, CONTEXT)).length).toBe(32);
    expect(emulator.calls.count("Decrypt")).toBe(3);
  });

  it("retry options and an injected client are mutually exclusive", () => {
    expect(() => createAwsKmsKek({ keyId: "alias/x", client: once, maxAttempts: 5 })).toThrow(EnvelopeError);
  });
});
