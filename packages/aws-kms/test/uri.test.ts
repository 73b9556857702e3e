import {
  createKeyring,
  createKeyringFromUris,
  createKeyUriRegistry,
  decrypt,
  EnvelopeError,
  encrypt,
} from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { awsKmsUriProvider } from "../src/index.js";

let emulator: AwsKmsEmulator;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
});
afterAll(() => emulator.close());

const registry = () => createKeyUriRegistry([awsKmsUriProvider]);
const providerOptions = () => {
  const { endpoint, credentials } = emulator.clientConfig();
  // Only the connection: each KEK's region comes from its URI, as it would in production.
  return { "aws-kms": { clientConfig: { endpoint, credentials } } };
};

describe("aws-kms:// URIs", () => {
  it("opens a key ARN, an alias ARN, a key id and an alias name (with ?region=)", async () => {
    const key = emulator.createKey({ alias: "alias/uri-forms", region: "eu-central-1" });
    const uris = [
      `aws-kms://${key.arn}`,
      `aws-kms://${key.aliasArn}`,
      `aws-kms://${key.keyId}?region=eu-central-1`,
      "aws-kms://alias/uri-forms?region=eu-central-1",
    ];
    for (const uri of uris) {
      const keyring = await createKeyringFromUris([uri], {
        registry: registry(),
        providerOptions: providerOptions(),
      });
      const envelope = await encrypt(new Uint8Array([9]), { keyring, context: { uri } });
      const result = await decrypt(envelope, { keyring });
      expect(result.unwrappedWith).toEqual({ provider: "aws-kms", keyId: key.arn });
    }
  });

  it("opens an RSA key with ?algorithm= and an MRK-aware replica with ?mrk=true", async () => {
    const rsa = emulator.createKey({ keySpec: "RSA_2048" });
    const kek = await registry().open(`aws-kms://${rsa.arn}?algorithm=RSAES_OAEP_SHA_256`, providerOptions());
    expect(kek.generateDataKey).toBeUndefined();
    const wrapped = await kek.wrap(new Uint8Array(32), {});
    expect(wrapped.keyId).toBe(rsa.arn);
    const mrk = emulator.createKey({ multiRegion: true });
    const other = mrk.arn.replace("us-east-1", "eu-west-1");
    const aware = await registry().open(`aws-kms://${other}?mrk=true`, providerOptions());
    expect(await aware.matches!({ provider: "aws-kms", keyId: mrk.arn })).toBe(true);
    const strict = await registry().open(`aws-kms://${other}`, providerOptions());
    expect(await strict.matches!({ provider: "aws-kms", keyId: mrk.arn })).toBe(false);
  });

  it("an injected client needs no region in the URI", async () => {
    const key = emulator.createKey({ alias: "alias/with-client" });
    const kek = await registry().open("aws-kms://alias/with-client", {
      "aws-kms": { client: emulator.client() },
    });
    expect((await kek.wrap(new Uint8Array(32), {})).keyId).toBe(key.arn);
  });

  it.each([
    ["aws-kms://1234abcd-12ab-34cd-56ef-1234567890ab", "needs ?region="],
    ["aws-kms://arn:aws:kms:us-east-1:1:key/x", "not a KMS key or alias ARN"],
    ["aws-kms://alias/x?region=us-east-1&colour=blue", 'unknown aws-kms:// parameter "colour"'],
    ["aws-kms://arn:aws:kms:us-east-1:111122223333:key/k?region=eu-west-1", "contradicts"],
    ["aws-kms://alias/x?region=us-east-1&mrk=yes", "must be true or false"],
    [
      "aws-kms://alias/x?region=us-east-1&algorithm=RSAES_PKCS1",
      'aws-kms:// parameter "algorithm" must be one of "SYMMETRIC_DEFAULT", "RSAES_OAEP_SHA_256"',
    ],
    ["aws-kms://alias/x?region=us-east-1&mrk=true&mrk=false", 'aws-kms:// parameter "mrk" is given twice'],
    ["aws-kms://alias/x?region=", 'aws-kms:// parameter "region" is empty'],
  ])("%s is INVALID_ARGUMENT (%s)", async (uri, message) => {
    const error = await registry()
      .open(uri, providerOptions())
      .catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(EnvelopeError);
    expect((error as EnvelopeError).code).toBe("INVALID_ARGUMENT");
    expect((error as EnvelopeError).message).toContain(message);
  });

  it("unknown provider options are refused", async () => {
    const open = registry().open("aws-kms://alias/x?region=us-east-1", { "aws-kms": { maxAtempts: 5 } });
    await expect(open).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: 'unknown aws-kms provider option "maxAtempts"',
    });
  });

  it("provider options are type-checked", async () => {
    const open = registry().open("aws-kms://alias/x?region=us-east-1", { "aws-kms": { maxAttempts: "3" } });
    await expect(open).rejects.toMatchObject({ code: "INVALID_ARGUMENT" });
  });

  it("uriFor names an envelope entry, and discovery can open it", async () => {
    const key = emulator.createKey();
    expect(awsKmsUriProvider.uriFor!(key.arn)).toBe(`aws-kms://${key.arn}`);
    const keyring = await createKeyringFromUris([`aws-kms://${key.arn}`], {
      registry: registry(),
      providerOptions: providerOptions(),
    });
    const envelope = await encrypt(new Uint8Array([3]), { keyring, context: {} });
    const reg = registry();
    const discovering = createKeyring({
      discovery: {
        filter: (entry) =>
          entry.provider === "aws-kms" && entry.keyId.startsWith("arn:aws:kms:us-east-1:111122223333:"),
        open: (entry) => reg.open(awsKmsUriProvider.uriFor!(entry.keyId), providerOptions()),
      },
    });
    expect([...(await decrypt(envelope, { keyring: discovering })).plaintext]).toEqual([3]);
  });
});
