import { setTimeout as sleep } from "node:timers/promises";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
import { createKeyring, decrypt, encrypt, type KekCallEvent, type KmsEvent } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { createGcpKmsKek } from "@kms-envelope/gcp-kms";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CONTEXT, rejection } from "./support.js";

let gcp: GcpKmsEmulator;
beforeAll(async () => {
  gcp = await startGcpKmsEmulator();
});
afterAll(() => gcp.close());

/** An envelope wrapped for two clouds: AWS (primary) and GCP (extra). */
async function twoCloudSetup(aws: AwsKmsEmulator) {
  const awsKek = createAwsKmsKek({
    keyId: aws.createKey().arn,
    client: aws.client({ config: { maxAttempts: 1 } }),
  });
  const gcpClient = gcp.client();
  const gcpKek = createGcpKmsKek({ name: gcp.createKey().name, client: gcpClient });
  const envelope = await encrypt(Buffer.from("two clouds"), {
    keyring: createKeyring({ primary: awsKek, extra: [gcpKek] }),
    context: CONTEXT,
  });
  return { awsKek, gcpKek, envelope };
}

describe("multi-KEK decrypt through the real SDKs", () => {
  it("an envelope wrapped for two clouds decrypts while one cloud's emulator is stopped", async () => {
    const aws = await startAwsKmsEmulator();
    const { awsKek, gcpKek, envelope } = await twoCloudSetup(aws);
    await aws.close(); // AWS is down: connections are refused
    const events: KmsEvent[] = [];
    const keyring = createKeyring({
      decryptOnly: [awsKek, gcpKek],
      kms: { callTimeoutMs: 2000 },
      onEvent: (event) => events.push(event),
    });
    const gcpDecrypts = gcp.calls.count("Decrypt");
    const result = await decrypt(envelope, { keyring, expectedContext: CONTEXT });
    expect(Buffer.from(result.plaintext).toString()).toBe("two clouds");
    expect(result.unwrappedWith.provider).toBe("gcp-kms");
    expect(gcp.calls.count("Decrypt")).toBe(gcpDecrypts + 1);
    expect(events.find((event) => event.type === "failover")).toMatchObject({
      reason: "error",
      provider: "aws-kms",
      code: "KMS_UNAVAILABLE",
    });
    // Without the GCP KEK the same keyring has nothing left: NO_USABLE_KEY naming AWS's failure.
    const alone = createKeyring({ decryptOnly: [awsKek], kms: { callTimeoutMs: 2000 } });
    const error = await rejection(decrypt(envelope, { keyring: alone }));
    expect(error.code).toBe("NO_USABLE_KEY");
    expect(error.failures.map((failure) => failure.error.code)).toEqual(["KMS_UNAVAILABLE"]);
  });

  it("a slow cloud times out per call and decrypt moves on to the next KEK", async () => {
    const aws = await startAwsKmsEmulator();
    try {
      const { awsKek, gcpKek, envelope } = await twoCloudSetup(aws);
      aws.faults.inject({ kind: "latency", delayMs: 3000, operation: "Decrypt" });
      const keyring = createKeyring({ decryptOnly: [awsKek, gcpKek], kms: { callTimeoutMs: 200 } });
      const started = performance.now();
      const result = await decrypt(envelope, { keyring });
      expect(performance.now() - started).toBeLessThan(2500);
      expect(result.unwrappedWith.provider).toBe("gcp-kms");
    } finally {
      await aws.close();
    }
  });

  it("hedging: a slow AWS call is joined by GCP after hedgeAfterMs; GCP wins and the AWS request is cancelled", async () => {
    const aws = await startAwsKmsEmulator();
    try {
      const { awsKek, gcpKek, envelope } = await twoCloudSetup(aws);
      aws.faults.inject({ kind: "latency", delayMs: 3000, operation: "Decrypt" });
      const events: KmsEvent[] = [];
      const keyring = createKeyring({
        decryptOnly: [awsKek, gcpKek],
        kms: { hedgeAfterMs: 100 },
        onEvent: (event) => events.push(event),
      });
      const started = performance.now();
      const result = await decrypt(envelope, { keyring });
      expect(performance.now() - started).toBeLessThan(2500);
      expect(result.unwrappedWith.provider).toBe("gcp-kms");
      expect(events.filter((event) => event.type === "failover")).toEqual([
        expect.objectContaining({ reason: "hedge", provider: "aws-kms" }),
      ]);
      // The loser's call ends as cancelled (ABORTED) long before the emulator would have answered.
      await sleep(50);
      expect(
        events
          .filter((event): event is KekCallEvent => event.type === "kek.unwrap")
          .map((e) => [e.provider, e.outcome]),
      ).toEqual([
        ["gcp-kms", "ok"],
        ["aws-kms", "ABORTED"],
      ]);
    } finally {
      await aws.close();
    }
  });
});
