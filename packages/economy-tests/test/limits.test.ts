import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createAzureKeyVaultKek } from "@kms-envelope/azure-keyvault";
import { createKeyring, encrypt, type KeyEncryptionKey, type KmsEvent } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { createGcpKmsKek } from "@kms-envelope/gcp-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTEXT, outcome, rejection } from "./support.js";

let aws: AwsKmsEmulator;
let gcp: GcpKmsEmulator;
let azure: AzureKeyVaultEmulator;
beforeAll(async () => {
  [aws, gcp, azure] = await Promise.all([
    startAwsKmsEmulator(),
    startGcpKmsEmulator(),
    startAzureKeyVaultEmulator(),
  ]);
});
afterAll(() => Promise.all([aws.close(), gcp.close(), azure.close()]));

describe("rate limit per KEK, counted at the emulator", () => {
  it("a burst of 10× the configured rate: the emulator sees no more than the limit allows, every operation ends typed within its deadline", async () => {
    const rate = 20;
    const burst = 5;
    const deadlineMs = 1500;
    const kek = createAwsKmsKek({ keyId: aws.createKey().arn, client: aws.client() });
    const events: KmsEvent[] = [];
    const keyring = createKeyring({
      primary: kek,
      kms: { rateLimit: { requestsPerSecond: rate, burst }, deadlineMs },
      onEvent: (event) => events.push(event),
    });
    // Warm the SDK client first (module loading, signing set-up): on a loaded machine a cold first
    // call can outlast the deadline, and the burst would then measure start-up, not the limit.
    await kek.wrap(Buffer.alloc(32), CONTEXT);
    aws.calls.reset();
    const started = performance.now();
    // One second's worth of calls at 10× the rate, all at once.
    const outcomes = await Promise.all(
      Array.from({ length: 10 * rate }, async () => {
        const result = await outcome(encrypt(Buffer.from("burst"), { keyring, context: CONTEXT }));
        return { result, ms: performance.now() - started };
      }),
    );
    const elapsedS = (performance.now() - started) / 1000;
    const calls = aws.calls.count("GenerateDataKey");
    expect(calls).toBeLessThanOrEqual(burst + Math.ceil(rate * elapsedS));
    // Every success made a call; a call still in flight at its deadline ends ABORTED.
    const ok = outcomes.filter((o) => o.result === "ok").length;
    const aborted = outcomes.filter((o) => o.result === "ABORTED").length;
    expect(calls).toBeGreaterThanOrEqual(ok);
    expect(calls).toBeLessThanOrEqual(ok + aborted);
    // The limit is used, not starved: the whole burst goes out at once. (How many of the
    // refilled tokens are spent before the deadline depends on how loaded the machine is.)
    expect(calls).toBeGreaterThanOrEqual(burst);
    for (const { result, ms } of outcomes) {
      expect(["ok", "KMS_THROTTLED", "ABORTED"]).toContain(result);
      expect(ms).toBeLessThan(deadlineMs + 500);
    }
    expect(events.some((event) => event.type === "rate-limited")).toBe(true);
  });
});

describe("per-call deadlines for every provider, against emulator latency", () => {
  const cases: [string, () => Promise<KeyEncryptionKey>, () => void][] = [
    [
      "aws-kms",
      async () => createAwsKmsKek({ keyId: aws.createKey().arn, client: aws.client() }),
      () => aws.faults.inject({ kind: "latency", delayMs: 5000 }),
    ],
    [
      "gcp-kms",
      async () => createGcpKmsKek({ name: gcp.createKey().name, client: gcp.client() }),
      () => gcp.faults.inject({ kind: "latency", delayMs: 5000 }),
    ],
    [
      "azure-keyvault",
      async () => {
        const key = await azure.createKey(`deadline-${Date.now()}`);
        return createAzureKeyVaultKek({
          keyId: key.id,
          credential: azure.credential,
          clientOptions: azure.clientOptions(),
        });
      },
      () => azure.faults.inject({ kind: "latency", delayMs: 5000 }),
    ],
  ];

  it.each(cases)(
    "%s: a call slower than callTimeoutMs fails as KMS_UNAVAILABLE at the timeout",
    async (_, make, slow) => {
      const kek = await make();
      // Warm-up without limits (Key Vault reads the key once; GCP opens its channel).
      await encrypt(Buffer.from("warm"), { keyring: createKeyring({ primary: kek }), context: CONTEXT });
      const keyring = createKeyring({ primary: kek, kms: { callTimeoutMs: 300 } });
      slow();
      const started = performance.now();
      const error = await rejection(encrypt(Buffer.from("slow"), { keyring, context: CONTEXT }));
      const elapsed = performance.now() - started;
      expect(error.code).toBe("KMS_UNAVAILABLE");
      expect(error.message).toMatch(/deadline: .* did not answer within 300 ms/);
      expect(elapsed).toBeGreaterThanOrEqual(290);
      expect(elapsed).toBeLessThan(4000);
    },
  );

  it.each(cases)("%s: the overall deadline ends the operation as ABORTED", async (_, make, slow) => {
    const kek = await make();
    await encrypt(Buffer.from("warm"), { keyring: createKeyring({ primary: kek }), context: CONTEXT });
    const keyring = createKeyring({ primary: kek, kms: { deadlineMs: 300 } });
    slow();
    const started = performance.now();
    const error = await rejection(encrypt(Buffer.from("slow"), { keyring, context: CONTEXT }));
    expect(error.code).toBe("ABORTED");
    expect(error.message).toMatch(/deadline: the operation did not finish within 300 ms/);
    expect(performance.now() - started).toBeLessThan(4000);
  });
});
