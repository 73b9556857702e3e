import { awsKmsUriProvider } from "@kms-envelope/aws-kms";
import { createKeyUriRegistry, decrypt, encrypt } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { discoveryAccepts, keyringFromConfig, parseConfig } from "../src/index.js";

describe("discovery filters accept only exact, parsed matches", () => {
  const filters = {
    "aws-kms": { partition: "aws", accounts: ["111122223333"], regions: ["eu-west-1"] },
    "gcp-kms": { projects: ["acme"], locations: ["europe-west1"] },
    "azure-keyvault": { vaults: ["acme.vault.azure.net"] },
  };
  const accepts = (provider: string, keyId: string) => discoveryAccepts(filters, { provider, keyId });

  it("AWS: partition, account and region of a key ARN", () => {
    expect(accepts("aws-kms", "arn:aws:kms:eu-west-1:111122223333:key/abc")).toBe(true);
    expect(accepts("aws-kms", "arn:aws:kms:us-east-1:111122223333:key/abc")).toBe(false);
    expect(accepts("aws-kms", "arn:aws:kms:eu-west-1:444455556666:key/abc")).toBe(false);
    expect(accepts("aws-kms", "arn:aws-cn:kms:eu-west-1:111122223333:key/abc")).toBe(false);
    expect(accepts("aws-kms", "arn:aws:kms:eu-west-1:111122223333:alias/abc")).toBe(false);
    expect(accepts("aws-kms", "abc")).toBe(false);
  });

  it("GCP: project and location of a key or key version name", () => {
    expect(accepts("gcp-kms", "projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k")).toBe(true);
    expect(
      accepts("gcp-kms", "projects/acme/locations/europe-west1/keyRings/r/cryptoKeys/k/cryptoKeyVersions/2"),
    ).toBe(true);
    expect(accepts("gcp-kms", "projects/acme/locations/us/keyRings/r/cryptoKeys/k")).toBe(false);
    expect(accepts("gcp-kms", "projects/acme-evil/locations/europe-west1/keyRings/r/cryptoKeys/k")).toBe(
      false,
    );
  });

  it("Azure: the vault host of a kid; local only when listed; unknown providers never", () => {
    expect(accepts("azure-keyvault", "https://acme.vault.azure.net/keys/k/0123")).toBe(true);
    expect(accepts("azure-keyvault", "https://acme.vault.azure.net.evil.com/keys/k/0123")).toBe(false);
    expect(accepts("azure-keyvault", "https://evil.vault.azure.net/keys/k")).toBe(false);
    expect(accepts("local", "app")).toBe(false);
    expect(discoveryAccepts({ local: {} }, { provider: "local", keyId: "app" })).toBe(true);
    expect(accepts("vault-transit", "anything")).toBe(false);
  });
});

describe("discovery from a profile, against the AWS emulator", () => {
  let aws: AwsKmsEmulator;
  beforeAll(async () => {
    aws = await startAwsKmsEmulator({ region: "eu-west-1" });
  });
  afterAll(() => aws.close());

  it("opens a key the profile does not list when the filter accepts it, and refuses one it does not", async () => {
    const listed = aws.createKey().arn;
    const other = aws.createKey().arn;
    const registry = createKeyUriRegistry([awsKmsUriProvider]);
    const settings = `providers: { aws-kms: { endpoint: "${aws.endpoint}", insecureTestCredentials: true } }`;
    const writer = await keyringFromConfig({
      config: parseConfig(`profiles: { w: { encrypt: ["aws-kms://${other}"], ${settings} } }`, {
        file: "/w.yaml",
      }),
      registry,
      env: {},
    });
    const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring: writer.keyring });
    const reader = (filter: string) =>
      keyringFromConfig({
        config: parseConfig(
          `profiles: { r: { encrypt: ["aws-kms://${listed}"], discovery: { aws-kms: ${filter} }, ${settings} } }`,
          { file: "/r.yaml" },
        ),
        registry,
        env: {},
      });
    const open = await reader(`{ partition: aws, accounts: ["111122223333"], regions: [eu-west-1] }`);
    expect([...(await decrypt(envelope, { keyring: open.keyring })).plaintext]).toEqual([1, 2, 3]);
    const closed = await reader(`{ partition: aws, accounts: ["444455556666"] }`);
    const decrypts = aws.calls.count("Decrypt");
    await expect(decrypt(envelope, { keyring: closed.keyring })).rejects.toMatchObject({
      code: "NO_USABLE_KEY",
    });
    expect(aws.calls.count("Decrypt")).toBe(decrypts); // never asked KMS about a key outside the filter
  });
});
