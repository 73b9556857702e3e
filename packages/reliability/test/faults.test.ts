import { randomBytes } from "node:crypto";
import { createServer } from "node:net";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createAzureKeyVaultKek } from "@kms-envelope/azure-keyvault";
import {
  createKeyring,
  decrypt,
  EnvelopeError,
  type ErrorCode,
  encrypt,
  type KeyEncryptionKey,
} from "@kms-envelope/core";
import type { Fault } from "@kms-envelope/emulators";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { createGcpKmsKek } from "@kms-envelope/gcp-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Faults through the emulators, driven by the real SDKs under core's
 * encrypt/decrypt. Every KEK gets the same retry budget: 3 attempts.
 * Each row checks the one outcome the provider's client promises; the table
 * printed at the end is the figure in docs/reliability.md.
 */
const ATTEMPTS = 3;
const CONTEXT = { purpose: "faults" };
const plaintext = randomBytes(100);

interface Cloud {
  readonly name: "aws-kms" | "gcp-kms" | "azure-keyvault";
  readonly faults: { inject(fault: Fault, count?: number): void; clear(): void; readonly pending: number };
  readonly wrapOperation: string;
  readonly unwrapOperation: string;
  kek(): KeyEncryptionKey;
}

let aws: AwsKmsEmulator;
let gcp: GcpKmsEmulator;
let azure: AzureKeyVaultEmulator;
const clouds: Cloud[] = [];
const table: {
  cloud: string;
  step: string;
  fault: string;
  injected: number | "every call";
  result: string;
}[] = [];

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

beforeAll(async () => {
  [aws, gcp, azure] = await Promise.all([
    startAwsKmsEmulator(),
    startGcpKmsEmulator(),
    startAzureKeyVaultEmulator(),
  ]);
  const awsKey = aws.createKey().arn;
  const gcpKey = gcp.createKey().name;
  const azureKey = (await azure.createKey(`faults-${randomBytes(4).toString("hex")}`)).id;
  const { endpoint, credentials, region } = aws.clientConfig();
  clouds.push(
    {
      name: "aws-kms",
      faults: aws.faults,
      // Core asks a primary that offers it for GenerateDataKey.
      wrapOperation: "GenerateDataKey",
      unwrapOperation: "Decrypt",
      kek: () =>
        createAwsKmsKek({
          keyId: awsKey,
          maxAttempts: ATTEMPTS,
          clientConfig: { endpoint, credentials, region },
        }),
    },
    {
      name: "gcp-kms",
      faults: gcp.faults,
      wrapOperation: "Encrypt",
      unwrapOperation: "Decrypt",
      // gax counts maxRetries as attempts in all.
      kek: () =>
        createGcpKmsKek({ name: gcpKey, client: gcp.client(), callOptions: { maxRetries: ATTEMPTS } }),
    },
    {
      name: "azure-keyvault",
      faults: azure.faults,
      wrapOperation: "WrapKey",
      unwrapOperation: "UnwrapKey",
      kek: () =>
        createAzureKeyVaultKek({
          keyId: azureKey,
          credential: azure.credential,
          clientOptions: azure.clientOptions({
            retryOptions: { maxRetries: ATTEMPTS - 1, retryDelayInMs: 20, maxRetryDelayInMs: 200 },
          }),
        }),
    },
  );
}, 60_000);

afterAll(async () => {
  console.log(`fault table (${table.length} rows):\n${table.map((row) => JSON.stringify(row)).join("\n")}`);
  await Promise.all([aws?.close(), gcp?.close(), azure?.close()]);
});

async function outcome(promise: Promise<unknown>): Promise<"ok" | EnvelopeError> {
  try {
    await promise;
    return "ok";
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return error as EnvelopeError;
  }
}

function note(
  cloud: string,
  step: string,
  fault: string,
  injected: number | "every call",
  result: "ok" | EnvelopeError,
) {
  const text =
    result === "ok"
      ? "ok"
      : result.code === "NO_USABLE_KEY"
        ? `NO_USABLE_KEY(${result.failures.map((failure) => failure.error.code).join(",")})`
        : result.code;
  table.push({ cloud, step, fault, injected, result: text });
  return text;
}

/** encrypt (wrap) and decrypt (unwrap) of a single-cloud envelope, with `count` faults queued on the step. */
async function underFault(cloud: Cloud, step: "encrypt" | "decrypt", fault: Fault, count: number) {
  const keyring = createKeyring({ primary: cloud.kek() });
  const envelope = step === "decrypt" ? await encrypt(plaintext, { keyring, context: CONTEXT }) : undefined;
  const operation = step === "encrypt" ? cloud.wrapOperation : cloud.unwrapOperation;
  cloud.faults.clear();
  cloud.faults.inject({ ...fault, operation }, count);
  const result = await outcome(
    step === "encrypt"
      ? encrypt(plaintext, { keyring, context: CONTEXT })
      : decrypt(envelope!, { keyring }).then(({ plaintext: out }) => {
          expect(Buffer.from(out).equals(plaintext)).toBe(true);
        }),
  );
  const left = cloud.faults.pending;
  cloud.faults.clear();
  return { result, text: note(cloud.name, step, fault.kind, count, result), left };
}

/**
 * What each client does with a fault, and so what the caller sees. GCP's
 * generated config retries UNAVAILABLE (and resets) but not RESOURCE_EXHAUSTED:
 * a throttled GCP call fails at once with the retryable KMS_THROTTLED.
 */
const expected: Record<
  Cloud["name"],
  Record<"throttle" | "unavailable" | "reset", { within: string; past: ErrorCode }>
> = {
  "aws-kms": {
    throttle: { within: "ok", past: "KMS_THROTTLED" },
    unavailable: { within: "ok", past: "KMS_UNAVAILABLE" },
    reset: { within: "ok", past: "KMS_UNAVAILABLE" },
  },
  "gcp-kms": {
    throttle: { within: "KMS_THROTTLED", past: "KMS_THROTTLED" },
    unavailable: { within: "ok", past: "KMS_UNAVAILABLE" },
    reset: { within: "ok", past: "KMS_UNAVAILABLE" },
  },
  "azure-keyvault": {
    throttle: { within: "ok", past: "KMS_THROTTLED" },
    unavailable: { within: "ok", past: "KMS_UNAVAILABLE" },
    reset: { within: "ok", past: "KMS_UNAVAILABLE" },
  },
};

for (const name of ["aws-kms", "gcp-kms", "azure-keyvault"] as const) {
  describe(`${name}: faults under encrypt and decrypt, retry budget ${ATTEMPTS} attempts`, () => {
    const cloud = () => clouds.find((entry) => entry.name === name)!;
    for (const kind of ["throttle", "unavailable", "reset"] as const) {
      for (const step of ["encrypt", "decrypt"] as const) {
        it(`${kind} × ${ATTEMPTS - 1} on ${step}: ${expected[name][kind].within}; × ${ATTEMPTS}: ${expected[name][kind].past}`, async () => {
          const fault: Fault = kind === "throttle" ? { kind, delayMs: 0 } : { kind };
          const within = await underFault(cloud(), step, fault, ATTEMPTS - 1);
          const wanted = expected[name][kind].within;
          expect(
            within.result === "ok" ? "ok" : (within.result.failures[0]?.error ?? within.result).code,
          ).toBe(wanted);
          if (wanted === "ok") expect(within.left).toBe(0); // every fault was met, and retried past
          const past = await underFault(cloud(), step, fault, ATTEMPTS);
          expect(past.result).not.toBe("ok");
          const error = past.result as EnvelopeError;
          if (step === "decrypt") {
            expect(error.code).toBe("NO_USABLE_KEY");
            expect(error.failures.map((failure) => failure.error.code)).toEqual([expected[name][kind].past]);
            expect(error.failures[0]?.error.retryable).toBe(true);
          } else {
            expect(error.code).toBe(expected[name][kind].past);
            expect(error.retryable).toBe(true);
          }
        });
      }
    }

    it(`a throttling burst: 5 throttles met by 10 parallel encrypts: ${name === "gcp-kms" ? "5 KMS_THROTTLED, 5 ok" : "retried; at most 1 fails (only a call throttled on all 3 attempts)"}`, async () => {
      const keyring = createKeyring({ primary: cloud().kek() });
      await encrypt(plaintext, { keyring, context: CONTEXT }); // warm: resolve keys, open connections
      cloud().faults.inject({ kind: "throttle", delayMs: 0, operation: cloud().wrapOperation }, 5);
      const results = await Promise.all(
        Array.from({ length: 10 }, () => outcome(encrypt(plaintext, { keyring, context: CONTEXT }))),
      );
      expect(cloud().faults.pending).toBe(0); // every throttle was met
      cloud().faults.clear();
      const throttled = results.filter((result) => result !== "ok");
      const summary = `${10 - throttled.length} ok${throttled.length > 0 ? `, ${throttled.length} KMS_THROTTLED` : ""}`;
      table.push({
        cloud: name,
        step: "10 encrypts in parallel",
        fault: "throttle burst",
        injected: 5,
        result: summary,
      });
      expect(throttled.every((error) => error.code === "KMS_THROTTLED" && error.retryable)).toBe(true);
      // GCP does not retry a throttle: each one fails its call. AWS and Key Vault retry: a call fails only
      // when all 3 of its attempts met a throttle, and 5 throttles cannot do that to 2 calls.
      if (name === "gcp-kms") expect(summary).toBe("5 ok, 5 KMS_THROTTLED");
      else expect(throttled.length).toBeLessThanOrEqual(1);
    });

    for (const step of ["encrypt", "decrypt"] as const) {
      it(`latency past the caller's deadline on ${step}: ABORTED promptly`, async () => {
        const keyring = createKeyring({ primary: cloud().kek() });
        const envelope = await encrypt(plaintext, { keyring, context: CONTEXT });
        const operation = step === "encrypt" ? cloud().wrapOperation : cloud().unwrapOperation;
        cloud().faults.inject({ kind: "latency", delayMs: 3_000, operation });
        const started = Date.now();
        const signal = AbortSignal.timeout(150);
        const result = await outcome(
          step === "encrypt"
            ? encrypt(plaintext, { keyring, context: CONTEXT, signal })
            : decrypt(envelope, { keyring, signal }),
        );
        cloud().faults.clear();
        note(name, step, "latency 3 s, deadline 150 ms", 1, result);
        expect((result as EnvelopeError).code).toBe("ABORTED");
        expect(Date.now() - started).toBeLessThan(1_500);
      });
    }
  });
}

describe("a provider down for the whole run", () => {
  it("encrypt with a KEK whose service refuses connections: KMS_UNAVAILABLE, retryable, after its attempts", async () => {
    const port = await deadPort();
    const { credentials, region } = aws.clientConfig();
    const down = createAwsKmsKek({
      keyId: aws.createKey().arn,
      maxAttempts: ATTEMPTS,
      clientConfig: { endpoint: `http://127.0.0.1:${port}`, credentials, region },
    });
    const result = await outcome(
      encrypt(plaintext, { keyring: createKeyring({ primary: down }), context: CONTEXT }),
    );
    note("aws-kms", "encrypt", "connection refused (down)", "every call", result);
    expect((result as EnvelopeError).code).toBe("KMS_UNAVAILABLE");
    expect((result as EnvelopeError).retryable).toBe(true);
  });

  it("a multi-cloud envelope decrypts with any one cloud down, and with two down; all three down is NO_USABLE_KEY of KMS_UNAVAILABLE", async () => {
    // GCP and Azure each get an emulator of their own for this test, so closing one takes that cloud down for good.
    const [gcpOwn, azureOwn] = await Promise.all([startGcpKmsEmulator(), startAzureKeyVaultEmulator()]);
    const awsArn = aws.createKey().arn;
    const gcpName = gcpOwn.createKey().name;
    const azureId = (await azureOwn.createKey(`down-${randomBytes(4).toString("hex")}`)).id;
    const config = aws.clientConfig();
    const awsKek = (endpoint: string) =>
      createAwsKmsKek({
        keyId: awsArn,
        maxAttempts: ATTEMPTS,
        clientConfig: { endpoint, credentials: config.credentials, region: config.region },
      });
    const gcpClient = gcpOwn.client();
    const gcpKek = createGcpKmsKek({
      name: gcpName,
      client: gcpClient,
      callOptions: { maxRetries: ATTEMPTS, timeout: 5_000 },
    });
    const azureKek = createAzureKeyVaultKek({
      keyId: azureId,
      credential: azureOwn.credential,
      clientOptions: azureOwn.clientOptions({
        retryOptions: { maxRetries: ATTEMPTS - 1, retryDelayInMs: 20 },
      }),
    });
    const awsUp = awsKek(config.endpoint);
    const awsDown = awsKek(`http://127.0.0.1:${await deadPort()}`);
    const envelope = await encrypt(plaintext, {
      keyring: createKeyring({ primary: awsUp, extra: [gcpKek, azureKek] }),
      context: CONTEXT,
    });
    const opens = async (label: string, allowed: KeyEncryptionKey[], via: string) => {
      const result = await decrypt(envelope, { keyring: createKeyring({ decryptOnly: allowed }) });
      expect(Buffer.from(result.plaintext).equals(plaintext)).toBe(true);
      expect(result.unwrappedWith.provider).toBe(via);
      note("multi-cloud", "decrypt", label, 1, "ok");
    };
    try {
      await opens("aws down", [awsDown, gcpKek, azureKek], "gcp-kms");
      await gcpOwn.close();
      await opens("gcp down", [gcpKek, awsUp, azureKek], "aws-kms");
      await opens("aws and gcp down", [awsDown, gcpKek, azureKek], "azure-keyvault");
      await azureOwn.close();
      await opens("azure down (and gcp)", [azureKek, gcpKek, awsUp], "aws-kms");
      const none = await outcome(
        decrypt(envelope, { keyring: createKeyring({ decryptOnly: [awsDown, gcpKek, azureKek] }) }),
      );
      const text = note("multi-cloud", "decrypt", "all three down", 3, none);
      expect(text).toBe("NO_USABLE_KEY(KMS_UNAVAILABLE,KMS_UNAVAILABLE,KMS_UNAVAILABLE)");
    } finally {
      await gcpClient.close().catch(() => undefined);
      await Promise.allSettled([gcpOwn.close(), azureOwn.close()]);
    }
  });
});
