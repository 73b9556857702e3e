import { KMSClient, ListKeysCommand } from "@aws-sdk/client-kms";
import { expect, it } from "vitest";
import { guard } from "./loopback-only.js";

// The guard in loopback-only.ts (a setup file) is what keeps every other test on 127.0.0.1.
it("a client pointed at real AWS cannot connect from a test", async () => {
  const client = new KMSClient({
    region: "us-east-1",
    credentials: { accessKeyId: "AKID", secretAccessKey: "x" },
    maxAttempts: 1,
  });
  await expect(client.send(new ListKeysCommand({}))).rejects.toThrow(/loopback guard/);
  client.destroy();
  expect(guard.refused.some((host) => host.includes("amazonaws.com"))).toBe(true);
  guard.refused.length = 0; // the deliberate attempt above is not a leak
});
