import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { resolvePackageDir } from "@kms-envelope/conformance";
import { inspect } from "@kms-envelope/core";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { startVaultTransitEmulator } from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, BIN, cliAsync, cliSync, ONE_ERROR_LINE, type Workspace, workspace } from "./helpers.js";

const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
let ws: Workspace;
let aws: AwsKmsEmulator;
let awsEnv: NodeJS.ProcessEnv;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);
const acli = (args: string[], options: Parameters<typeof cliAsync>[2] = {}) => cliAsync(ws, args, options);

beforeAll(async () => {
  assertBuilt();
  aws = await startAwsKmsEmulator();
  // The SDK's own environment settings: the CLI passes no code-only options to the provider.
  awsEnv = {
    AWS_ENDPOINT_URL_KMS: aws.endpoint,
    AWS_ACCESS_KEY_ID: aws.credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: aws.credentials.secretAccessKey,
    AWS_REGION: aws.region,
  };
});
afterAll(async () => {
  await aws?.close();
});
beforeEach(async () => {
  ws = await workspace("kms-envelope-providers-");
  expect(cli(["keys", "create", "app"]).status).toBe(0);
});

/** Every module URL the command resolved, through a module hook in the child. */
async function modulesLoaded(
  args: string[],
  env: NodeJS.ProcessEnv = {},
  input: string | Buffer = "x",
): Promise<string[]> {
  const hook = join(ws.dir, "record-modules.mjs");
  const log = join(ws.dir, "modules.log");
  writeFileSync(
    hook,
    `import { registerHooks } from "node:module";
import { appendFileSync } from "node:fs";
registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); appendFileSync(${JSON.stringify(log)}, r.url + "\\n"); return r; } });
`,
  );
  rmSync(log, { force: true });
  const result = await cliAsync(ws, ["--import", hook, BIN, ...args], { env, input, bin: "--no-warnings" });
  expect(result.status, result.stderr).toBe(0);
  return readFileSync(log, "utf8").split("\n").filter(Boolean);
}

const CLOUD_SDKS = [
  "@aws-sdk",
  "@google-cloud",
  "@azure",
  "@grpc",
  "@kms-envelope/aws-kms",
  "@kms-envelope/gcp-kms",
  "@kms-envelope/azure-keyvault",
];
const loads = (urls: string[], part: string) =>
  urls.some(
    (url) =>
      url.includes(`/node_modules/${part}`) ||
      url.includes(`/packages/${part.replace("@kms-envelope/", "")}/`),
  );

describe("providers load only for the schemes a command uses", () => {
  it("a local-key encrypt and decrypt import no cloud SDK, no provider package and no YAML parser", async () => {
    const encrypted = cli(["encrypt", "-k", "local://app"], { input: "x" }).stdout;
    for (const [args, input] of [
      [["encrypt", "-k", "local://app"], "x"],
      [["decrypt"], encrypted],
    ] as const) {
      const urls = await modulesLoaded([...args], {}, input);
      expect(urls.length).toBeGreaterThan(10);
      for (const sdk of [...CLOUD_SDKS, "@kms-envelope/vault-transit"])
        expect(loads(urls, sdk), `${args[0]} loaded ${sdk}`).toBe(false);
      expect(loads(urls, "cli-progress"), "progress library for a tiny input").toBe(false);
      // No config file here: the YAML parser (some 70 files) is loaded only to parse one.
      expect(loads(urls, "yaml"), `${args[0]} loaded the YAML parser`).toBe(false);
    }
  });

  it("an aws-kms key loads the AWS SDK and no other cloud's", async () => {
    const key = aws.createKey();
    const urls = await modulesLoaded(["encrypt", "-k", `aws-kms://${key.arn}`, "-o", "a.kmse"], awsEnv);
    expect(loads(urls, "@aws-sdk")).toBe(true);
    for (const other of ["@google-cloud", "@azure", "@grpc"]) expect(loads(urls, other), other).toBe(false);
  });
  it("a vault-transit key loads @kms-envelope/vault-transit and no cloud SDK", async () => {
    const vault = await startVaultTransitEmulator();
    try {
      vault.createKey("app");
      writeFileSync(join(ws.dir, "vault-token"), vault.rootToken);
      const settings = `{ tokenFile: ${JSON.stringify(join(ws.dir, "vault-token"))}, tls: false }`;
      writeFileSync(
        join(ws.dir, "vault.yaml"),
        `profiles:\n  v:\n    encrypt: ["vault-transit://${vault.hostPort}/transit/keys/app"]\n    providers:\n      vault-transit: ${settings}\n`,
      );
      const urls = await modulesLoaded(["encrypt", "--config", "vault.yaml", "-o", "v.kmse"]);
      expect(loads(urls, "@kms-envelope/vault-transit")).toBe(true);
      expect(loads(urls, "yaml"), "a config file is parsed with the YAML parser").toBe(true);
      for (const sdk of CLOUD_SDKS) expect(loads(urls, sdk), sdk).toBe(false);
    } finally {
      await vault.close();
    }
  });
});

describe("cloud keys through the CLI against the AWS emulator", () => {
  it("encrypt and decrypt with an aws-kms:// key; rewrap to a second AWS key uses KMS ReEncrypt (no Decrypt)", async () => {
    const first = aws.createKey();
    const second = aws.createKey();
    const encrypted = await acli(
      ["encrypt", "-k", `aws-kms://${first.arn}`, "-c", "app=cli", "-o", "a.kmse"],
      {
        input: "to the cloud",
        env: awsEnv,
      },
    );
    expect(encrypted.status, encrypted.stderr).toBe(0);
    const decrypted = await acli(["decrypt", "-k", `aws-kms://${first.arn}`, "-i", "a.kmse"], {
      env: awsEnv,
    });
    expect(decrypted.stdout.toString()).toBe("to the cloud");
    const decrypts = aws.calls.count("Decrypt");
    const rewrapped = await acli(
      [
        "rewrap",
        "-k",
        `aws-kms://${first.arn}`,
        "--to",
        `aws-kms://${second.arn}`,
        "--remove",
        `aws-kms://${first.arn}`,
        "--in-place",
        "a.kmse",
      ],
      { env: awsEnv },
    );
    expect(rewrapped.status, rewrapped.stderr).toBe(0);
    expect(rewrapped.stderr).toContain("1 re-encrypted in the KMS");
    expect(aws.calls.count("ReEncrypt")).toBe(1);
    expect(aws.calls.count("Decrypt")).toBe(decrypts);
    expect(inspect(readFileSync(join(ws.dir, "a.kmse"))).wrappedKeys.map((k) => k.keyId)).toEqual([
      second.arn,
    ]);
    expect(
      (
        await acli(["decrypt", "-k", `aws-kms://${second.arn}`, "-i", "a.kmse"], { env: awsEnv })
      ).stdout.toString(),
    ).toBe("to the cloud");
  });

  it("an unreachable endpoint names the network error (ECONNREFUSED 127.0.0.1:PORT)", async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, "127.0.0.1", done));
    const port = (server.address() as { port: number }).port;
    await new Promise((done) => server.close(done));
    const key = aws.createKey();
    const failed = await acli(["encrypt", "-k", `aws-kms://${key.arn}`], {
      input: "x",
      env: { ...awsEnv, AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: "1" },
    });
    expect(failed.status).toBe(6);
    expect(failed.stderr).toMatch(ONE_ERROR_LINE("KMS_UNAVAILABLE"));
    expect(failed.stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
    // Decrypt too: every key failed the same way, so the status is the KMS's, not "no usable key".
    const envelope = await acli(["encrypt", "-k", `aws-kms://${key.arn}`], { input: "x", env: awsEnv });
    const unreadable = await acli(["decrypt", "-k", `aws-kms://${key.arn}`], {
      input: envelope.stdout,
      env: { ...awsEnv, AWS_ENDPOINT_URL_KMS: `http://127.0.0.1:${port}`, AWS_MAX_ATTEMPTS: "1" },
    });
    expect(unreadable.status).toBe(6);
    expect(unreadable.stderr).toMatch(ONE_ERROR_LINE("KMS_UNAVAILABLE"));
    expect(unreadable.stderr).toContain(`ECONNREFUSED 127.0.0.1:${port}`);
  });
});

/**
 * Copies a built workspace package into `target` the way npm lays it out:
 * its own `@kms-envelope/*` dependencies copied into its node_modules, third-party
 * ones linked to their installed copies (which see only their own dependencies).
 */
function installCopy(name: string, target: string, omit: readonly string[] = []): void {
  const source = join(PACKAGES, name.replace("@kms-envelope/", ""));
  mkdirSync(target, { recursive: true });
  cpSync(join(source, "package.json"), join(target, "package.json"));
  cpSync(join(source, "dist"), join(target, "dist"), { recursive: true });
  const manifest = JSON.parse(readFileSync(join(source, "package.json"), "utf8")) as {
    dependencies?: Record<string, string>;
    peerDependencies?: Record<string, string>;
    peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  };
  // npm installs required peers too (core is one for providers); optional peers only when asked for.
  const requiredPeers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true,
  );
  for (const dependency of [...Object.keys(manifest.dependencies ?? {}), ...requiredPeers]) {
    if (omit.includes(dependency)) continue;
    const into = join(target, "node_modules", dependency);
    if (dependency.startsWith("@kms-envelope/")) {
      installCopy(dependency, into);
      continue;
    }
    const found = resolvePackageDir(source, dependency);
    if (found === undefined) throw new Error(`${dependency} is not installed`);
    mkdirSync(dirname(into), { recursive: true });
    symlinkSync(found, into, "dir");
  }
}

describe("a global-style install (npm i -g @kms-envelope/cli @kms-envelope/aws-kms)", () => {
  it("finds the provider installed beside it, names the one that is not, and reports one that fails to load", async () => {
    const prefix = join(ws.dir, "global");
    const modules = join(prefix, "lib", "node_modules");
    installCopy("@kms-envelope/cli", join(modules, "@kms-envelope", "cli"));
    installCopy("@kms-envelope/aws-kms", join(modules, "@kms-envelope", "aws-kms"));
    const globalBin = join(modules, "@kms-envelope", "cli", "dist", "bin.js");
    expect(
      existsSync(join(modules, "@kms-envelope", "cli", "node_modules", "@kms-envelope", "aws-kms")),
    ).toBe(false);
    const run = (args: string[], env: NodeJS.ProcessEnv = {}, input: string | Buffer = "") =>
      cliAsync(ws, args, { env: { ...awsEnv, ...env }, input, bin: globalBin });
    const key = aws.createKey();
    const encrypted = await run(["encrypt", "-k", `aws-kms://${key.arn}`], {}, "installed globally");
    expect(encrypted.status, encrypted.stderr).toBe(0);
    const decrypted = await run(["decrypt", "-k", `aws-kms://${key.arn}`], {}, encrypted.stdout);
    expect(decrypted.stdout.toString()).toBe("installed globally");

    const missing = await run(
      ["encrypt", "-k", "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"],
      {},
      "x",
    );
    expect(missing.status).toBe(2);
    expect(missing.stderr).toMatch(ONE_ERROR_LINE("PROVIDER_NOT_INSTALLED"));
    expect(missing.stderr).toContain("npm i -g @kms-envelope/cli @kms-envelope/gcp-kms");

    // Installed, but a package it imports at load is missing (here core): its own load error, not "install it".
    installCopy("@kms-envelope/gcp-kms", join(modules, "@kms-envelope", "gcp-kms"), ["@kms-envelope/core"]);
    const broken = await run(
      ["encrypt", "-k", "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"],
      {},
      "x",
    );
    expect(broken.status).toBe(2);
    expect(broken.stderr).toMatch(ONE_ERROR_LINE("PROVIDER_NOT_INSTALLED"));
    expect(broken.stderr).toContain(
      "@kms-envelope/gcp-kms is installed but failed to load: Cannot find package '@kms-envelope/core'",
    );
  });
});
