import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createIsolatedInstall, productionClosure, runIsolated } from "@kms-envelope/conformance";
import { createKeyring, encrypt } from "@kms-envelope/core";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcpKmsKek } from "../src/index.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = resolve(packageDir, "../core");

describe("install tree", () => {
  it("production dependencies hold no other cloud's SDK and no other provider package", () => {
    const closure = productionClosure(packageDir);
    expect(closure).toContain("@google-cloud/kms");
    expect(closure).toContain("@kms-envelope/core");
    const forbidden = [...closure].filter(
      (name) =>
        /^@aws-sdk\/|^@smithy\/|^@azure\/|^@azure-rest\//.test(name) ||
        (name.startsWith("@kms-envelope/") && name !== "@kms-envelope/core"),
    );
    expect(forbidden).toEqual([]);
  });

  it("needs no native binding: nothing for `npm install --omit=optional` to break (CRC32C is pure JS)", () => {
    const closure = [...productionClosure(packageDir)];
    expect(closure.filter((name) => /^@node-rs\/|crc32/.test(name))).toEqual([]);
    // The fresh process below runs from an install that links no optional dependency at all.
  });
});

describe("a fresh process with only core + gcp-kms installed", () => {
  let emulator: GcpKmsEmulator;
  let app: string;

  beforeAll(async () => {
    emulator = await startGcpKmsEmulator();
    // The published shape: dist + package.json, built now from this checkout.
    app = createIsolatedInstall([coreDir, packageDir], {
      prefix: "kms-envelope-gcp-app-",
      build: [packageDir],
      files: { "decrypt.mjs": CHILD_SCRIPT },
    });
  });

  afterAll(async () => {
    await emulator?.close();
    if (app !== undefined) rmSync(app, { recursive: true, force: true });
  });

  for (const asymmetric of [false, true]) {
    it(`decrypts an envelope made in this process (${asymmetric ? "asymmetric" : "symmetric"} key)`, async () => {
      const key = emulator.createKey(asymmetric ? { purpose: "ASYMMETRIC_DECRYPT" } : {});
      const name = asymmetric ? key.versionName : key.name;
      const client = emulator.client();
      const kek = createGcpKmsKek({ name, client });
      const plaintext = randomBytes(1000);
      const context = { purpose: "fresh-process" };
      const envelope = await encrypt(plaintext, { keyring: createKeyring({ primary: kek }), context });
      await client.close();
      const before = emulator.calls.count(asymmetric ? "AsymmetricDecrypt" : "Decrypt");
      const input = JSON.stringify({
        name,
        port: emulator.port,
        context,
        envelope: Buffer.from(envelope).toString("base64"),
      });
      const output = await runIsolated(app, "decrypt.mjs", {
        input,
        env: { ...process.env, METADATA_SERVER_DETECTION: "none" },
      });
      const result = JSON.parse(output) as Record<string, unknown>;
      expect(Buffer.from(result.plaintext as string, "base64")).toEqual(plaintext);
      expect(result.otherPackages).toEqual([]);
      expect(result.nonLoopback).toEqual([]);
      expect(emulator.calls.count(asymmetric ? "AsymmetricDecrypt" : "Decrypt") - before).toBe(1);
    });
  }
});

/**
 * Imports nothing but core and gcp-kms; talks REST to the emulator with an
 * auth client of a dozen lines (no credentials, no metadata server); reports
 * what the isolation probe saw (every module resolved, any non-loopback socket).
 */
const CHILD_SCRIPT = `
const { resolved, nonLoopback } = globalThis.isolationProbe;
const { createKeyring, decrypt } = await import("@kms-envelope/core");
const { createGcpKmsKek } = await import("@kms-envelope/gcp-kms");
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const authClient = {
  getRequestHeaders: async () => new Headers(),
  fetch: (url, init) => fetch(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal }),
};
const kek = createGcpKmsKek({
  name: input.name,
  clientOptions: { apiEndpoint: "127.0.0.1", port: input.port, fallback: true, protocol: "http", authClient },
});
const { plaintext } = await decrypt(Buffer.from(input.envelope, "base64"), {
  keyring: createKeyring({ primary: kek }),
  expectedContext: input.context,
});
await kek.close();
const otherPackages = resolved.filter((specifier) => /@aws-sdk|@azure|@kms-envelope\\/(?!core|gcp-kms)/.test(specifier));
process.stdout.write(JSON.stringify({ plaintext: Buffer.from(plaintext).toString("base64"), otherPackages, nonLoopback }));
`;
