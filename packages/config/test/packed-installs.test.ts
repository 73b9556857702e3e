import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { productionClosure } from "@kms-envelope/conformance";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "@kms-envelope/emulators/aws";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { type GcpKmsEmulator, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * Single-provider installs as a user gets them: the workspace packages are
 * packed with `pnpm pack` (so `files`, `exports` and the rewritten
 * `workspace:` ranges are what ships) and installed with npm from the
 * tarballs into an empty project. npm fetches the third-party dependencies
 * (the cloud SDKs) from its cache or the registry, as any install does; the
 * round trips themselves reach only the emulators on 127.0.0.1.
 */
/** Runs a command with no standard input; a failure or a 150 s stall names the command and its stderr. */
function run(
  command: string,
  args: readonly string[],
  options: { cwd: string; env?: NodeJS.ProcessEnv },
): Promise<{ stdout: string }> {
  return new Promise((done, fail) => {
    const child = spawn(command, args, { ...options, stdio: ["ignore", "pipe", "pipe"], timeout: 150_000 });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => {
      stdout += chunk;
    });
    child.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    child.once("error", fail);
    child.once("close", (code, signal) =>
      code === 0
        ? done({ stdout })
        : fail(new Error(`${command} ${args.join(" ")} exited ${code ?? signal}: ${stderr.slice(-2000)}`)),
    );
  });
}
const PACKAGES = join(dirname(fileURLToPath(import.meta.url)), "..", "..");

/** What marks each cloud's SDK in an install tree. */
const CLOUD_SDKS: Record<string, RegExp> = {
  "aws-kms": /^(@aws-sdk|@smithy|@aws-crypto|@aws)\//,
  "gcp-kms": /^(@google-cloud\/|@grpc\/|google-gax$|google-auth-library$|gcp-metadata$|gtoken$|protobufjs$)/,
  "azure-keyvault": /^(@azure\/|@azure-rest\/|@typespec\/)/,
};
const PROVIDERS = [
  { scheme: "aws-kms", dir: "aws-kms", exportName: "awsKmsUriProvider" },
  { scheme: "gcp-kms", dir: "gcp-kms", exportName: "gcpKmsUriProvider" },
  { scheme: "azure-keyvault", dir: "azure-keyvault", exportName: "azureKeyVaultUriProvider" },
] as const;

const ROUND_TRIP = `
import { createKeyringFromUris, createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
const { [process.env.PROVIDER_EXPORT]: provider } = await import(process.env.PROVIDER_PACKAGE);
const registry = createKeyUriRegistry([provider]);
const keyring = await createKeyringFromUris([process.env.KEY_URI], {
  registry,
  providerOptions: { [provider.scheme]: JSON.parse(process.env.SETTINGS) },
});
const envelope = await encrypt(new TextEncoder().encode("packed and installed"), { keyring, context: { app: "pack" } });
const { plaintext } = await decrypt(envelope, { keyring, expectedContext: { app: "pack" } });
process.stdout.write(JSON.stringify({ text: new TextDecoder().decode(plaintext), providers: inspect(envelope).wrappedKeys.map((k) => k.provider) }));
for (const kek of keyring.allowed) await kek.close?.();
`;

// The same through a config file: the program names neither key nor endpoint.
const CONFIG_ROUND_TRIP = `
import { createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { keyringFromConfig, loadConfig } from "@kms-envelope/config";
const { [process.env.PROVIDER_EXPORT]: provider } = await import(process.env.PROVIDER_PACKAGE);
const config = await loadConfig();
const { keyring, contextFor, checkContext } = await keyringFromConfig({ config, registry: createKeyUriRegistry([provider]) });
const envelope = await encrypt(new TextEncoder().encode("packed and installed"), { keyring, context: contextFor() });
checkContext(inspect(envelope).context);
const { plaintext } = await decrypt(envelope, { keyring });
process.stdout.write(JSON.stringify({ text: new TextDecoder().decode(plaintext), providers: inspect(envelope).wrappedKeys.map((k) => k.provider) }));
for (const kek of keyring.allowed) await kek.close?.();
`;

let packs: string;
const tarballs = new Map<string, string>();
let aws: AwsKmsEmulator;
let gcp: GcpKmsEmulator;
let azure: AzureKeyVaultEmulator;
const keys: Record<string, { uri: string; settings: Record<string, unknown> }> = {};

beforeAll(async () => {
  packs = mkdtempSync(join(tmpdir(), "kms-packs-"));
  for (const dir of ["core", "local", "cli", "config", "aws-kms", "gcp-kms", "azure-keyvault"]) {
    const manifest = JSON.parse(readFileSync(join(PACKAGES, dir, "package.json"), "utf8")) as {
      name: string;
    };
    const { stdout } = await run("pnpm", ["pack", "--pack-destination", packs], { cwd: join(PACKAGES, dir) });
    const file = stdout.trim().split("\n").at(-1)!;
    tarballs.set(manifest.name, file.startsWith("/") ? file : join(packs, file));
  }
  [aws, gcp, azure] = await Promise.all([
    startAwsKmsEmulator(),
    startGcpKmsEmulator(),
    startAzureKeyVaultEmulator(),
  ]);
  const caFile = join(packs, "azure-ca.pem");
  writeFileSync(caFile, azure.ca);
  keys["aws-kms"] = {
    uri: `aws-kms://${aws.createKey().arn}`,
    settings: { endpoint: aws.endpoint, insecureTestCredentials: true },
  };
  keys["gcp-kms"] = {
    uri: `gcp-kms://${gcp.createKey().name}`,
    settings: { endpoint: `http://127.0.0.1:${gcp.port}`, insecureTestCredentials: true },
  };
  keys["azure-keyvault"] = {
    uri: `azure-keyvault://${new URL(azure.vaultUrl).host}/keys/${(await azure.createKey("packed")).name}`,
    settings: { caFile, insecureTestCredentials: true },
  };
}, 120_000);
afterAll(async () => {
  await Promise.all([aws?.close(), gcp?.close(), azure?.close()]);
});

/** The workspace packages `names` need, transitively, from their packed manifests. */
function withWorkspaceDependencies(names: readonly string[]): string[] {
  const needed = new Set<string>();
  const visit = (name: string) => {
    if (needed.has(name)) return;
    needed.add(name);
    const manifest = JSON.parse(
      readFileSync(join(PACKAGES, name.replace("@kms-envelope/", ""), "package.json"), "utf8"),
    );
    for (const dependency of Object.keys({ ...manifest.dependencies, ...manifest.peerDependencies })) {
      if (dependency.startsWith("@kms-envelope/")) visit(dependency);
    }
  };
  for (const name of names) visit(name);
  return [...needed];
}

async function npmInstall(names: readonly string[]): Promise<string> {
  const app = mkdtempSync(join(tmpdir(), "kms-npm-app-"));
  writeFileSync(join(app, "package.json"), JSON.stringify({ private: true, type: "module" }));
  const files = withWorkspaceDependencies(names).map((name) => tarballs.get(name)!);
  await run(
    "npm",
    [
      "install",
      ...files,
      "--omit=dev",
      "--ignore-scripts",
      "--no-audit",
      "--no-fund",
      "--prefer-offline",
      "--loglevel=error",
    ],
    { cwd: app },
  );
  return app;
}

/** Every package name in an install tree, nested node_modules included. */
function installedNames(modules: string): Set<string> {
  const names = new Set<string>();
  const walk = (dir: string) => {
    if (!existsSync(dir)) return;
    for (const entry of readdirSync(dir)) {
      if (entry.startsWith(".")) continue;
      const dirs = entry.startsWith("@")
        ? readdirSync(join(dir, entry)).map((sub) => `${entry}/${sub}`)
        : [entry];
      for (const name of dirs) {
        names.add(name);
        walk(join(dir, name, "node_modules"));
      }
    }
  };
  walk(modules);
  return names;
}

async function roundTrip(app: string, provider: (typeof PROVIDERS)[number], viaConfig: boolean) {
  writeFileSync(join(app, "round-trip.mjs"), viaConfig ? CONFIG_ROUND_TRIP : ROUND_TRIP);
  const { uri, settings } = keys[provider.scheme]!;
  // JSON is YAML: the profile as a flow mapping.
  const profile = {
    encrypt: [uri],
    context: { app: "pack" },
    requireContext: ["app"],
    providers: { [provider.scheme]: settings },
  };
  writeFileSync(join(app, "kms-envelope.yaml"), JSON.stringify({ profiles: { app: profile } }));
  const { stdout } = await run(process.execPath, ["round-trip.mjs"], {
    cwd: app,
    env: {
      PATH: process.env.PATH,
      PROVIDER_PACKAGE: `@kms-envelope/${provider.dir}`,
      PROVIDER_EXPORT: provider.exportName,
      KEY_URI: uri,
      SETTINGS: JSON.stringify(settings),
    },
  });
  return JSON.parse(stdout) as { text: string; providers: string[] };
}

describe.each(PROVIDERS)("$scheme installed from packed tarballs with npm", (provider) => {
  const others = Object.entries(CLOUD_SDKS).filter(([scheme]) => scheme !== provider.scheme);

  it.each([
    { label: "core", packages: ["@kms-envelope/core", `@kms-envelope/${provider.dir}`] },
    { label: "the CLI", packages: ["@kms-envelope/cli", `@kms-envelope/${provider.dir}`] },
    { label: "config", packages: ["@kms-envelope/config", `@kms-envelope/${provider.dir}`] },
  ])(
    "$label + the provider: no other cloud's SDK in the tree, and an envelope round-trips",
    async ({ packages }) => {
      const app = await npmInstall(packages);
      const installed = installedNames(join(app, "node_modules"));
      expect(installed.has(`@kms-envelope/${provider.dir}`)).toBe(true);
      expect([...installed].filter((name) => CLOUD_SDKS[provider.scheme]!.test(name)).length).toBeGreaterThan(
        0,
      );
      for (const [, pattern] of others)
        expect([...installed].filter((name) => pattern.test(name))).toEqual([]);
      const closure = productionClosure(join(app, "node_modules", "@kms-envelope", provider.dir));
      for (const [, pattern] of others) expect([...closure].filter((name) => pattern.test(name))).toEqual([]);
      const viaConfig = packages[0] === "@kms-envelope/config";
      if (viaConfig)
        expect(existsSync(join(app, "node_modules", "@kms-envelope", "config", "schema.json"))).toBe(true);
      expect(await roundTrip(app, provider, viaConfig)).toEqual({
        text: "packed and installed",
        providers: [provider.scheme],
      });
      if (packages[0] === "@kms-envelope/cli") {
        // The installed command runs there too: a local-key round trip through its bin.
        const cli = (...args: string[]) =>
          run(
            process.execPath,
            [join(app, "node_modules", "@kms-envelope", "cli", "dist", "bin.js"), ...args],
            {
              cwd: app,
              env: { PATH: process.env.PATH, KMS_ENVELOPE_KEYSTORE: join(app, "keystore.json") },
            },
          );
        writeFileSync(join(app, "plain.txt"), "through the installed CLI");
        await cli("keys", "create", "app");
        await cli("encrypt", "--key", "local://app", "-i", "plain.txt", "-o", "plain.kmse");
        await cli("decrypt", "--key", "local://app", "-i", "plain.kmse", "-o", "back.txt");
        expect(readFileSync(join(app, "back.txt"), "utf8")).toBe("through the installed CLI");
      }
    },
  );
});
