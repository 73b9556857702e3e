import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyUriRegistry, type KeyEncryptionKey } from "@kms-envelope/core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { gcpKmsUriProvider } from "../src/index.js";
import { rejection, TRANSPORTS, useEmulator } from "./helpers.js";
import { guard } from "./network-guard.js";

const env = useEmulator();
let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "gcp-opener-"));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Opens a KEK the way a config file would: a URI and data-only settings, no client object. */
const open = (uri: string, settings: Record<string, unknown>) =>
  createKeyUriRegistry([gcpKmsUriProvider]).open(uri, { "gcp-kms": settings });

const endpoint = () => `http://127.0.0.1:${env.emulator.port}`;
const opened: KeyEncryptionKey[] = [];
afterAll(async () => {
  await Promise.all(opened.map((kek) => kek.close?.()));
});

describe("data-only opener settings, through the real client library", () => {
  for (const transport of TRANSPORTS) {
    it(`endpoint + transport "${transport}" + insecureTestCredentials reach the emulator`, async () => {
      for (const asymmetric of [false, true]) {
        const key = env.emulator.createKey(asymmetric ? { purpose: "ASYMMETRIC_DECRYPT" } : {});
        const name = asymmetric ? key.versionName : key.name;
        const before = env.emulator.calls.count(asymmetric ? "AsymmetricDecrypt" : "Decrypt");
        const kek = await open(`gcp-kms://${name}`, {
          endpoint: endpoint(),
          transport,
          insecureTestCredentials: true,
        });
        opened.push(kek);
        const wrapped = await kek.wrap(new Uint8Array(32).fill(5), { app: "opener" });
        const dek = await kek.unwrap({ provider: "gcp-kms", ...wrapped }, { app: "opener" });
        expect([...dek]).toEqual(new Array(32).fill(5));
        expect(env.emulator.calls.count(asymmetric ? "AsymmetricDecrypt" : "Decrypt") - before).toBe(1);
      }
      expect(guard.refused).toEqual([]);
    });
  }

  it("a plain http:// endpoint must be loopback, and insecureTestCredentials needs a loopback endpoint", async () => {
    const name = env.emulator.createKey().name;
    for (const settings of [
      { endpoint: "http://kms.example.com" },
      { endpoint: "https://europe-west1-kms.googleapis.com", insecureTestCredentials: true },
      { insecureTestCredentials: true },
      { endpoint: "ftp://127.0.0.1:1" },
      { endpoint: "https://127.0.0.1/v1/path" },
      { transport: "http2" },
      { endpoint: endpoint(), insecureTestCredentials: true, credentialsFile: join(dir, "key.json") },
    ]) {
      expect((await rejection(open(`gcp-kms://${name}`, settings))).code, JSON.stringify(settings)).toBe(
        "INVALID_ARGUMENT",
      );
    }
  });

  it("credentialsFile is the file the client library authenticates with", async () => {
    const name = env.emulator.createKey().name;
    const absent = join(dir, "absent.json");
    const kek = await open(`gcp-kms://${name}`, {
      endpoint: endpoint(),
      transport: "rest",
      credentialsFile: absent,
    });
    opened.push(kek);
    const error = await rejection(kek.wrap(new Uint8Array(32), {}));
    // The library read this file (not Application Default Credentials), and its failure is typed.
    expect(error.code).toBe("KMS_ERROR");
    expect(error.message).toContain(`ENOENT: no such file or directory, open '${absent}'`);
    expect(guard.refused).toEqual([]);
  });
});
