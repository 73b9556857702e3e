import { randomBytes } from "node:crypto";
import { rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createIsolatedInstall, productionClosure, runIsolated } from "@kms-envelope/conformance";
import { createKeyring, encrypt } from "@kms-envelope/core";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createAzureKeyVaultKek } from "../src/index.js";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const coreDir = resolve(packageDir, "../core");

describe("install tree", () => {
  it("production dependencies hold no other cloud's SDK, no other provider, and no @azure/identity", () => {
    const closure = productionClosure(packageDir);
    expect(closure).toContain("@azure/keyvault-keys");
    expect(closure).toContain("@kms-envelope/core");
    const forbidden = [...closure].filter(
      (name) =>
        /^@aws-sdk\/|^@smithy\/|^@google-cloud\/|^google-gax$|^@grpc\/|^@azure\/identity$|^@azure\/msal-/.test(
          name,
        ) ||
        (name.startsWith("@kms-envelope/") && name !== "@kms-envelope/core"),
    );
    expect(forbidden).toEqual([]);
  });
});

describe("a fresh process with only core + azure-keyvault installed", () => {
  let emulator: AzureKeyVaultEmulator;
  let app: string;

  beforeAll(async () => {
    emulator = await startAzureKeyVaultEmulator();
    // The published shape: dist + package.json, built now from this checkout.
    app = createIsolatedInstall([coreDir, packageDir], {
      prefix: "kms-envelope-azure-app-",
      build: [packageDir],
      files: { "decrypt.mjs": CHILD_SCRIPT },
    });
  });

  afterAll(async () => {
    await emulator.close();
    rmSync(app, { recursive: true, force: true });
  });

  it("decrypts an envelope made in this process, with a stub credential and no @azure/identity", async () => {
    const key = await emulator.createKey("fresh-process");
    const kek = createAzureKeyVaultKek({
      keyId: key.id,
      credential: emulator.credential,
      clientOptions: emulator.clientOptions(),
    });
    const plaintext = randomBytes(1000);
    const context = { purpose: "fresh-process" };
    const envelope = await encrypt(plaintext, { keyring: createKeyring({ primary: kek }), context });
    const token = await emulator.credential.getToken("https://vault.azure.net/.default");
    const input = JSON.stringify({
      keyId: key.id,
      ca: emulator.ca,
      token: token?.token,
      context,
      envelope: Buffer.from(envelope).toString("base64"),
    });
    const output = await runIsolated(app, "decrypt.mjs", { input });
    const result = JSON.parse(output) as Record<string, unknown>;
    expect(Buffer.from(result.plaintext as string, "base64")).toEqual(plaintext);
    expect(result.resolvedIdentity).toBe(false);
    expect(result.cloudSdks).toEqual([]);
    // Without a credential and without @azure/identity, the error names the package to install.
    expect(result.noCredential).toEqual({ code: "PROVIDER_NOT_INSTALLED", mentionsIdentity: true });
    expect(emulator.calls.count("UnwrapKey")).toBe(1);
  });
});

/** Imports nothing but core and azure-keyvault; reports the module specifiers the isolation probe saw. */
const CHILD_SCRIPT = `
const { resolved } = globalThis.isolationProbe;
const { createKeyring, decrypt } = await import("@kms-envelope/core");
const { createAzureKeyVaultKek } = await import("@kms-envelope/azure-keyvault");
let text = "";
for await (const chunk of process.stdin) text += chunk;
const input = JSON.parse(text);
const credential = { getToken: async () => ({ token: input.token, expiresOnTimestamp: Date.now() + 60_000 }) };
const clientOptions = { tlsOptions: { ca: input.ca }, disableChallengeResourceVerification: true };
const kek = createAzureKeyVaultKek({ keyId: input.keyId, credential, clientOptions });
const { plaintext } = await decrypt(Buffer.from(input.envelope, "base64"), {
  keyring: createKeyring({ primary: kek }),
  expectedContext: input.context,
});
const resolvedIdentity = resolved.some((specifier) => specifier.includes("@azure/identity"));
const cloudSdks = resolved.filter((specifier) => /@aws-sdk|@google-cloud|@kms-envelope\\/(?!core|azure-keyvault)/.test(specifier));
let noCredential;
try {
  await createAzureKeyVaultKek({ keyId: input.keyId, clientOptions }).wrap(new Uint8Array(32), {});
} catch (error) {
  noCredential = { code: error.code, mentionsIdentity: error.message.includes("@azure/identity") };
}
process.stdout.write(JSON.stringify({ plaintext: Buffer.from(plaintext).toString("base64"), resolvedIdentity, cloudSdks, noCredential }));
`;
