import { rm } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { DisableKeyCommand } from "@aws-sdk/client-kms";
import { createIsolatedInstall, runIsolated } from "@kms-envelope/conformance";
import { armor, createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAwsKmsKek } from "../src/index.js";

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));
const CORE = join(PACKAGE, "..", "core");

// The reader: a program whose node_modules hold only core and aws-kms (copies
// of their built packages), opening the key from its URI as a config would.
const READER = `
import { createKeyringFromUris, createKeyUriRegistry, decrypt } from "@kms-envelope/core";
import { awsKmsUriProvider } from "@kms-envelope/aws-kms";
for (const absent of ["@kms-envelope/emulators", "@kms-envelope/local", "@kms-envelope/conformance"]) {
  const found = await import(absent).then(() => true, () => false);
  if (found) throw new Error(absent + " must not be resolvable here");
}
const registry = createKeyUriRegistry([awsKmsUriProvider]);
const clientConfig = { endpoint: process.env.KMS_ENDPOINT, credentials: JSON.parse(process.env.KMS_CREDENTIALS) };
const keyring = await createKeyringFromUris([process.env.KMS_KEY_URI], { registry, providerOptions: { "aws-kms": { clientConfig } } });
const { plaintext, header } = await decrypt(process.argv[2], { keyring, expectedContext: { app: "fresh" } });
process.stdout.write(JSON.stringify({ text: new TextDecoder().decode(plaintext), keyIds: header.wrappedKeys.map((k) => k.keyId) }));
`;

// A writer that names only the key: client, credentials, region and endpoint all
// come from the SDK's default chain (here the environment), created on first use.
const DEFAULT_CHAIN_WRITER = `
import { armor, createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
const kek = createAwsKmsKek({ keyId: process.env.KMS_KEY_ID });
try {
  const envelope = await encrypt(new TextEncoder().encode("from the default chain"), { keyring: createKeyring({ primary: kek }), context: { app: "fresh" } });
  process.stdout.write(armor(envelope));
} catch (error) {
  process.stdout.write("ERROR " + error.code + " " + error.cause?.name);
}
`;

let emulator: AwsKmsEmulator;
let app: string;
beforeAll(async () => {
  emulator = await startAwsKmsEmulator();
  // Copies of core and aws-kms (built now from this checkout), plus links to the SDK they need: nothing else.
  app = createIsolatedInstall([CORE, PACKAGE], {
    prefix: "aws-kms-fresh-",
    build: [PACKAGE],
    files: { "reader.mjs": READER, "writer.mjs": DEFAULT_CHAIN_WRITER },
  });
});
/** The child's whole environment: the emulator, and nothing inherited that could point the SDK elsewhere. */
const emulatorEnv = (extra: Record<string, string>) => ({
  PATH: process.env.PATH ?? "",
  KMS_ENDPOINT: emulator.endpoint,
  KMS_CREDENTIALS: JSON.stringify(emulator.credentials),
  AWS_EC2_METADATA_DISABLED: "true",
  ...extra,
});

afterAll(async () => {
  await emulator?.close();
  if (app !== undefined) await rm(app, { recursive: true, force: true });
});

it("an envelope made with an AWS KEK decrypts in a fresh process with only core + aws-kms", async () => {
  const key = emulator.createKey({ alias: "alias/fresh", region: "eu-west-1" });
  const kek = createAwsKmsKek({ keyId: key.aliasArn!, client: emulator.client({ region: "eu-west-1" }) });
  const envelope = await encrypt(new TextEncoder().encode("read me elsewhere"), {
    keyring: createKeyring({ primary: kek }),
    context: { app: "fresh" },
  });
  emulator.calls.reset();
  const stdout = await runIsolated(app, "reader.mjs", {
    args: [armor(envelope)],
    env: emulatorEnv({ KMS_KEY_URI: `aws-kms://${key.arn}` }),
  });
  expect(JSON.parse(stdout)).toEqual({ text: "read me elsewhere", keyIds: [key.arn] });
  // The child really asked KMS: one Decrypt, in the key's region.
  expect(emulator.calls.count("Decrypt")).toBe(1);
});

it("with no client or config, a KEK uses the SDK's default chain, created on first use", async () => {
  const key = emulator.createKey({ alias: "alias/default-chain", region: "ap-northeast-1" });
  emulator.calls.reset();
  const stdout = await runIsolated(app, "writer.mjs", {
    env: {
      PATH: process.env.PATH ?? "",
      KMS_KEY_ID: "alias/default-chain",
      AWS_ACCESS_KEY_ID: emulator.credentials.accessKeyId,
      AWS_SECRET_ACCESS_KEY: emulator.credentials.secretAccessKey,
      AWS_REGION: "ap-northeast-1",
      AWS_ENDPOINT_URL_KMS: emulator.endpoint,
      AWS_CONFIG_FILE: join(app, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(app, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    },
  });
  expect(emulator.calls.count("DescribeKey")).toBe(1);
  expect(emulator.calls.count("GenerateDataKey")).toBe(1);
  const kek = createAwsKmsKek({ keyId: key.arn, client: emulator.client({ region: "ap-northeast-1" }) });
  const result = await decrypt(stdout, {
    keyring: createKeyring({ decryptOnly: [kek] }),
    expectedContext: { app: "fresh" },
  });
  expect(new TextDecoder().decode(result.plaintext)).toBe("from the default chain");
});

it("with no credentials anywhere, the default chain fails as KEY_ACCESS_DENIED", async () => {
  emulator.createKey({ alias: "alias/no-credentials" });
  emulator.calls.reset();
  const stdout = await runIsolated(app, "writer.mjs", {
    env: {
      PATH: process.env.PATH ?? "",
      KMS_KEY_ID: "alias/no-credentials",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_KMS: emulator.endpoint,
      AWS_CONFIG_FILE: join(app, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(app, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    },
  });
  expect(stdout).toBe("ERROR KEY_ACCESS_DENIED CredentialsProviderError");
  expect(emulator.calls.count("DescribeKey")).toBe(0);
});

// Two copies of core, as npm installs them when the application's core and the
// provider's drift apart: the application imports the top one, aws-kms its own.
const TWO_CORES = `
import * as top from "@kms-envelope/core";
import { createAwsKmsKek } from "@kms-envelope/aws-kms";
const nested = await import(new URL("./node_modules/@kms-envelope/aws-kms/node_modules/@kms-envelope/core/dist/index.js", import.meta.url).href);
const config = { endpoint: process.env.KMS_ENDPOINT, region: "us-east-1", credentials: JSON.parse(process.env.KMS_CREDENTIALS) };
const kek = createAwsKmsKek({ keyId: process.env.KMS_KEY_ARN, clientConfig: config });
const keyring = top.createKeyring({ primary: kek });
const codeOf = (promise) => promise.then(() => "no error", (error) => error);
const wrapError = await codeOf(kek.wrap(new Uint8Array(32), {}));
const encryptError = await codeOf(top.encrypt(new Uint8Array(1), { keyring }));
const decryptError = await codeOf(top.decrypt(process.argv[2], { keyring }));
process.stdout.write(JSON.stringify({
  twoCopies: nested.EnvelopeError !== top.EnvelopeError,
  providerUsesNested: wrapError instanceof nested.EnvelopeError,
  instanceofTop: wrapError instanceof top.EnvelopeError,
  isEnvelopeError: top.isEnvelopeError(wrapError) && nested.isEnvelopeError(decryptError),
  wrap: wrapError.code,
  encrypt: encryptError.code,
  decrypt: decryptError.code,
  failures: decryptError.failures.map((failure) => failure.error.code),
}));
`;

it("with two copies of core installed, provider errors keep their codes (the Symbol.for brand)", async () => {
  const twoCores = createIsolatedInstall([CORE, PACKAGE], {
    prefix: "aws-kms-two-cores-",
    nested: { "@kms-envelope/aws-kms": [CORE] },
    files: { "two-cores.mjs": TWO_CORES },
  });
  try {
    const key = emulator.createKey();
    const client = emulator.client();
    const envelope = await encrypt(new Uint8Array([1]), {
      keyring: createKeyring({ primary: createAwsKmsKek({ keyId: key.arn, client }) }),
    });
    await client.send(new DisableKeyCommand({ KeyId: key.arn }));
    const stdout = await runIsolated(twoCores, "two-cores.mjs", {
      args: [armor(envelope)],
      env: emulatorEnv({ KMS_KEY_ARN: key.arn }),
    });
    expect(JSON.parse(stdout)).toEqual({
      twoCopies: true,
      providerUsesNested: true,
      instanceofTop: false,
      isEnvelopeError: true,
      wrap: "KEY_DISABLED",
      encrypt: "KEY_DISABLED",
      decrypt: "NO_USABLE_KEY",
      failures: ["KEY_DISABLED"],
    });
  } finally {
    await rm(twoCores, { recursive: true, force: true });
  }
});
