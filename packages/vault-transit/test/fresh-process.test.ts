import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createIsolatedInstall, productionClosure } from "@kms-envelope/conformance";
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
    execFileSync(
      process.execPath,
      [join(packageDir, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: packageDir,
      },
    );
    app = createIsolatedInstall([coreDir, packageDir], "kms-envelope-vault-app-");
    writeFileSync(join(app, "vault-ca.pem"), vault.ca!);
    writeFileSync(join(app, "decrypt.mjs"), CHILD_SCRIPT);
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
    const output = await new Promise<string>((done, fail) => {
      const child = execFile(
        process.execPath,
        ["decrypt.mjs"],
        {
          cwd: app,
          timeout: 20_000,
          env: { PATH: process.env.PATH, VAULT_TOKEN: token, VAULT_CACERT: join(app, "vault-ca.pem") },
        },
        (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)),
      );
      child.stdin?.end(JSON.stringify({ key, context, envelope: Buffer.from(envelope).toString("base64") }));
    });
    const result = JSON.parse(output) as Record<string, unknown>;
    expect(Buffer.from(result.plaintext as string, "base64")).toEqual(plaintext);
    expect(result.foreign).toEqual([]);
    expect(vault.calls.count("Decrypt")).toBe(1);
  });
});

/** Imports nothing but core and vault-transit; records every bare module specifier it resolves. */
const CHILD_SCRIPT = `
import { registerHooks } from "node:module";
const resolved = [];
registerHooks({
  resolve(specifier, context, nextResolve) {
    resolved.push(specifier);
    return nextResolve(specifier, context);
  },
});
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
process.stdout.write(JSON.stringify({ plaintext: Buffer.from(plaintext).toString("base64"), foreign }));
`;
