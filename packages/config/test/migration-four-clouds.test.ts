import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awsKmsUriProvider } from "@kms-envelope/aws-kms";
import { azureKeyVaultUriProvider } from "@kms-envelope/azure-keyvault";
import { armor, createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { gcpKmsUriProvider } from "@kms-envelope/gcp-kms";
import { localKeyUriProvider, openKeystore } from "@kms-envelope/local";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keyringFromConfig, loadConfig } from "../src/index.js";

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
afterAll(async () => {
  await Promise.all([aws.close(), gcp.close(), azure.close()]);
});

/**
 * The program under test: it knows every provider and nothing about keys.
 * Each run reads every envelope in `data` (they must all still decrypt) and
 * writes one more; which keys it uses is the config file's business.
 */
async function program(env: Record<string, string>, data: string, run: number): Promise<string[]> {
  const registry = createKeyUriRegistry([
    awsKmsUriProvider,
    gcpKmsUriProvider,
    azureKeyVaultUriProvider,
    localKeyUriProvider,
  ]);
  const config = await loadConfig({ env, cwd: data });
  if (config === undefined) throw new Error("no config");
  const { keyring, contextFor, checkContext } = await keyringFromConfig({ config, registry, env });
  const read: string[] = [];
  for (const file of readdirSync(data)
    .filter((name) => name.endsWith(".kmse"))
    .sort()) {
    const envelope = readFileSync(join(data, file), "utf8");
    checkContext(inspect(envelope).context);
    read.push(new TextDecoder().decode((await decrypt(envelope, { keyring })).plaintext));
  }
  const envelope = await encrypt(new TextEncoder().encode(`run ${run}`), { keyring, context: contextFor() });
  writeFileSync(join(data, `${run}.kmse`), armor(envelope));
  for (const kek of keyring.allowed) await kek.close?.();
  return read;
}

it("the same program moves AWS → GCP → Azure → local by its config file alone, reading everything it wrote", async () => {
  const dir = mkdtempSync(join(tmpdir(), "kms-four-clouds-"));
  const data = join(dir, "data");
  mkdirSync(data);
  const caFile = join(dir, "azure-ca.pem");
  writeFileSync(caFile, azure.ca);
  openKeystore({ path: join(dir, "keys.json") }).create("app");
  const awsKey = `aws-kms://${aws.createKey().arn}`;
  const gcpKey = `gcp-kms://${gcp.createKey({ project: "acme", keyRing: "apps", id: "orders" }).name}`;
  const azureKey = `azure-keyvault://${new URL(azure.vaultUrl).host}/keys/${(await azure.createKey("orders")).name}`;
  const settings = `
    context: { app: orders }
    requireContext: [app]
    providers:
      aws-kms: { endpoint: "${aws.endpoint}", insecureTestCredentials: true }
      gcp-kms: { endpoint: "http://127.0.0.1:${gcp.port}", insecureTestCredentials: true }
      azure-keyvault: { caFile: azure-ca.pem, insecureTestCredentials: true }
      local: { keystore: keys.json }`;
  const stages: [encryptWith: string, decryptOnly: string[], provider: string][] = [
    [awsKey, [], "aws-kms"],
    [gcpKey, [awsKey], "gcp-kms"],
    [azureKey, [gcpKey, awsKey], "azure-keyvault"],
    ["local://app", [azureKey, gcpKey, awsKey], "local"],
  ];
  const configFile = join(dir, "kms-envelope.yaml");
  const env = { KMS_ENVELOPE_CONFIG: configFile };
  for (const [index, [encryptWith, decryptOnly, provider]] of stages.entries()) {
    const decryptList =
      decryptOnly.length === 0 ? "" : `\n    decrypt: [${decryptOnly.map((uri) => `"${uri}"`).join(", ")}]`;
    writeFileSync(
      configFile,
      `profiles:\n  app:\n    encrypt: ["${encryptWith}"]${decryptList}${settings}\n`,
    );
    const read = await program(env, data, index + 1);
    expect(read).toEqual(stages.slice(0, index).map((_, run) => `run ${run + 1}`));
    const written = inspect(readFileSync(join(data, `${index + 1}.kmse`), "utf8"));
    expect(written.wrappedKeys.map((entry) => entry.provider)).toEqual([provider]);
    expect(written.context).toEqual({ app: "orders" });
  }
  // Each cloud unwrapped the envelopes it had wrapped, once per later run that read them.
  expect(aws.calls.count("Decrypt")).toBe(3);
  expect(gcp.calls.count("Decrypt")).toBe(2);
  expect(azure.calls.count("UnwrapKey")).toBe(1);
});
