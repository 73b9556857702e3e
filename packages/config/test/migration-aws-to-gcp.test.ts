import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { awsKmsUriProvider } from "@kms-envelope/aws-kms";
import { createKeyUriRegistry, decrypt, encrypt, inspect, rewrap } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { gcpKmsUriProvider } from "@kms-envelope/gcp-kms";
import { afterAll, beforeAll, expect, it } from "vitest";
import { keyringFromConfig, loadConfig } from "../src/index.js";

let aws: AwsKmsEmulator;
let gcp: GcpKmsEmulator;
beforeAll(async () => {
  [aws, gcp] = await Promise.all([startAwsKmsEmulator(), startGcpKmsEmulator()]);
});
afterAll(async () => {
  await Promise.all([aws.close(), gcp.close()]);
});

const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

it("data under profile A (AWS) stays readable when the config moves to B (GCP encrypts, A's key decrypt-only)", async () => {
  const awsKey = aws.createKey().arn;
  const gcpKey = gcp.createKey({ project: "acme", location: "europe-west1", keyRing: "apps" }).name;
  const dir = mkdtempSync(join(tmpdir(), "kms-migration-"));
  // Only data: endpoints and emulator credentials come from the file, no client in code.
  const providers = `
    providers:
      aws-kms: { endpoint: "${aws.endpoint}", insecureTestCredentials: true }
      gcp-kms: { endpoint: "http://127.0.0.1:${gcp.port}", insecureTestCredentials: true }`;
  writeFileSync(
    join(dir, "kms-envelope.yaml"),
    `default: a
profiles:
  a:
    encrypt: ["aws-kms://${awsKey}"]
    context: { app: orders }${providers}
  b:
    encrypt: ["gcp-kms://${gcpKey}"]
    decrypt: ["aws-kms://${awsKey}"]
    context: { app: orders }
    requireContext: [app]${providers}
`,
  );
  const registry = createKeyUriRegistry([awsKmsUriProvider, gcpKmsUriProvider]);
  const config = (await loadConfig({ cwd: dir, env: {} }))!;

  const a = await keyringFromConfig({ config, registry, env: {} });
  const old = await encrypt(new TextEncoder().encode("written under A"), {
    keyring: a.keyring,
    context: a.contextFor(),
  });
  expect(inspect(old).wrappedKeys.map((entry) => entry.provider)).toEqual(["aws-kms"]);

  // The move is KMS_ENVELOPE_PROFILE (or editing "default"): no code changes.
  const b = await keyringFromConfig({ config, registry, env: { KMS_ENVELOPE_PROFILE: "b" } });
  expect(b.description).toMatchObject({ profile: "b", chosenBy: "env", decrypt: [`aws-kms://${awsKey}`] });
  b.checkContext(inspect(old).context);
  expect(text((await decrypt(old, { keyring: b.keyring })).plaintext)).toBe("written under A");

  const awsEncrypts = aws.calls.count("Encrypt") + aws.calls.count("GenerateDataKey");
  const fresh = await encrypt(new TextEncoder().encode("written under B"), {
    keyring: b.keyring,
    context: b.contextFor({ order: "42" }),
  });
  expect(inspect(fresh).wrappedKeys).toEqual([
    expect.objectContaining({ provider: "gcp-kms", keyId: gcpKey }),
  ]);
  expect(aws.calls.count("Encrypt") + aws.calls.count("GenerateDataKey")).toBe(awsEncrypts);
  expect(text((await decrypt(fresh, { keyring: b.keyring })).plaintext)).toBe("written under B");
  await expect(decrypt(fresh, { keyring: a.keyring })).rejects.toMatchObject({ code: "NO_USABLE_KEY" });

  // Moving the old file over to profile b: wrapped under GCP only, body unchanged.
  const moved = await rewrap(old, { from: b.keyring, to: b.keyring });
  expect(moved.removed).toEqual([{ provider: "aws-kms", keyId: awsKey }]);
  expect(inspect(moved.envelope).wrappedKeys.map((entry) => entry.keyId)).toEqual([gcpKey]);
  const awsDecrypts = aws.calls.count("Decrypt");
  expect(text((await decrypt(moved.envelope, { keyring: b.keyring })).plaintext)).toBe("written under A");
  expect(aws.calls.count("Decrypt")).toBe(awsDecrypts);
});
