import { execFile } from "node:child_process";
import { rm, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createIsolatedInstall } from "@kms-envelope/conformance";
import { armor, createKeyring, decrypt, encrypt } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createAwsKmsKek } from "../src/index.js";

const run = promisify(execFile);
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

// The same loopback-only guard as the test setup file, for the child.
const GUARD = `
import { Socket } from "node:net";
const connect = Socket.prototype.connect;
Socket.prototype.connect = function (...args) {
  const [first] = Array.isArray(args[0]) ? args[0] : args;
  const host = typeof first === "object" && first !== null && typeof first.path !== "string" ? (first.host ?? "localhost") : "localhost";
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) throw new Error("child tried to connect to " + host);
  return connect.apply(this, args);
};
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
  // The child imports the built package: a stale dist would test old code.
  const built = await stat(join(PACKAGE, "dist", "index.js")).catch(() => undefined);
  const source = await stat(join(PACKAGE, "src", "aws-kms-kek.ts"));
  if (built === undefined || built.mtimeMs < source.mtimeMs) {
    throw new Error(
      "packages/aws-kms/dist is missing or stale: run `pnpm --filter @kms-envelope/aws-kms run build`",
    );
  }
  emulator = await startAwsKmsEmulator();
  // Copies of the built core and aws-kms, plus links to the SDK they depend on: nothing else.
  app = createIsolatedInstall([CORE, PACKAGE], "aws-kms-fresh-");
  await writeFile(join(app, "reader.mjs"), READER);
  await writeFile(join(app, "loopback-only.mjs"), GUARD);
  await writeFile(join(app, "writer.mjs"), DEFAULT_CHAIN_WRITER);
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
  const { stdout } = await run(
    process.execPath,
    ["--import", "./loopback-only.mjs", "reader.mjs", armor(envelope)],
    {
      cwd: app,
      // Nothing inherited that could point the SDK elsewhere (profiles, IMDS, real credentials).
      env: {
        PATH: process.env.PATH ?? "",
        KMS_ENDPOINT: emulator.endpoint,
        KMS_CREDENTIALS: JSON.stringify(emulator.credentials),
        KMS_KEY_URI: `aws-kms://${key.arn}`,
        AWS_EC2_METADATA_DISABLED: "true",
      },
      timeout: 20_000,
    },
  );
  expect(JSON.parse(stdout)).toEqual({ text: "read me elsewhere", keyIds: [key.arn] });
  // The child really asked KMS: one Decrypt, in the key's region.
  expect(emulator.calls.count("Decrypt")).toBe(1);
});

it("with no client or config, a KEK uses the SDK's default chain, created on first use", async () => {
  const key = emulator.createKey({ alias: "alias/default-chain", region: "ap-northeast-1" });
  emulator.calls.reset();
  const { stdout } = await run(process.execPath, ["--import", "./loopback-only.mjs", "writer.mjs"], {
    cwd: app,
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
    timeout: 20_000,
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
  const { stdout } = await run(process.execPath, ["--import", "./loopback-only.mjs", "writer.mjs"], {
    cwd: app,
    env: {
      PATH: process.env.PATH ?? "",
      KMS_KEY_ID: "alias/no-credentials",
      AWS_REGION: "us-east-1",
      AWS_ENDPOINT_URL_KMS: emulator.endpoint,
      AWS_CONFIG_FILE: join(app, "no-config"),
      AWS_SHARED_CREDENTIALS_FILE: join(app, "no-credentials"),
      AWS_EC2_METADATA_DISABLED: "true",
    },
    timeout: 20_000,
  });
  expect(stdout).toBe("ERROR KEY_ACCESS_DENIED CredentialsProviderError");
  expect(emulator.calls.count("DescribeKey")).toBe(0);
});
