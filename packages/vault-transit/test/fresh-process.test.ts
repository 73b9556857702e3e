import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createIsolatedInstall, productionClosure, runIsolated } from "@kms-envelope/conformance";
import { createKeyring, encrypt } from "@kms-envelope/core";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createVaultTransitKek } from "../src/index.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = resolve(packageDir, "../core");

describe("install tree", () => {
  it("a production install brings core and nothing else: no cloud SDK, no HTTP client", () => {
    expect([...productionClosure(packageDir)]).toEqual(["@kms-envelope/core"]);
  });
});

describe("a fresh process with only core + vault-transit installed", () => {
  let vault: VaultTransitEmulator;
  let app: string;

  beforeAll(async () => {
    vault = await startVaultTransitEmulator({ tls: true });
    // The published shape: dist + package.json, built now from this checkout.
    app = createIsolatedInstall([coreDir, packageDir], {
      prefix: "kms-envelope-vault-app-",
      build: [packageDir],
      files: { "decrypt.mjs": CHILD_SCRIPT, "vault-ca.pem": vault.ca! },
    });
  });

  afterAll(async () => {
    await vault.close();
    rmSync(app, { recursive: true, force: true });
  });

  it("decrypts over HTTPS with VAULT_TOKEN and VAULT_CACERT from the environment", async () => {
    vault.createKey("fresh-process", { derived: true });
    const key = `vault-transit://${vault.hostPort}/transit/keys/fresh-process?derived=true`;
    const kek = createVaultTransitKek({ key, token: vault.rootToken, ca: vault.ca });
    const plaintext = randomBytes(1000);
    const context = { purpose: "fresh-process" };
    const envelope = await encrypt(plaintext, { keyring: createKeyring({ primary: kek }), context });
    vault.setPolicy("fresh-reader", [{ path: "transit/decrypt/fresh-process", capabilities: ["update"] }]);
    const token = vault.createToken({ policies: ["fresh-reader"] }).token;
    const output = await runIsolated(app, "decrypt.mjs", {
      input: JSON.stringify({ key, context, envelope: Buffer.from(envelope).toString("base64") }),
      env: { PATH: process.env.PATH, VAULT_TOKEN: token, VAULT_CACERT: join(app, "vault-ca.pem") },
    });
    const result = JSON.parse(output) as Record<string, unknown>;
    expect(Buffer.from(result.plaintext as string, "base64")).toEqual(plaintext);
    expect(result.foreign).toEqual([]);
    expect(result.nonLoopback).toEqual([]);
    expect(vault.calls.count("Decrypt")).toBe(1);
  });
});

/** Imports nothing but core and vault-transit; reports the bare specifiers and hosts the isolation probe saw. */
const CHILD_SCRIPT = `
const { resolved, nonLoopback } = globalThis.isolationProbe;
const { createKeyring, decrypt } = await import("@kms-envelope/core");
const { createVaultTransitKek } = await import("@kms-envelope/vault-transit");
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const kek = createVaultTransitKek({ key: input.key });
const { plaintext } = await decrypt(Buffer.from(input.envelope, "base64"), {
  keyring: createKeyring({ primary: kek }),
  expectedContext: input.context,
});
await kek.close();
const foreign = resolved.filter((s) => !s.startsWith(".") && !s.startsWith("node:") && !s.startsWith("file:") && !s.startsWith("/") && !/^@kms-envelope\\/(core|vault-transit)/.test(s));
process.stdout.write(JSON.stringify({ plaintext: Buffer.from(plaintext).toString("base64"), foreign, nonLoopback }));
`;
