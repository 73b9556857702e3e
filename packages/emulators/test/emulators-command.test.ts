import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { DecryptCommand, EncryptCommand, KMSClient } from "@aws-sdk/client-kms";
import type { AccessToken, TokenCredential } from "@azure/core-auth";
import { CryptographyClient } from "@azure/keyvault-keys";
import { describe, expect, it } from "vitest";
import { createEmulatorClient } from "../src/gcp/emulator-client.js";

const BIN = fileURLToPath(new URL("../dist/bin/kms-envelope-emulators.js", import.meta.url));

interface Started {
  child: ChildProcess;
  stdout: string;
  stderr: () => string;
}

/** Runs the built command as its own process and waits for its "ready" line. */
async function start(args: readonly string[]): Promise<Started> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  await new Promise<void>((ready, fail) => {
    child.stdout!.on("data", (chunk) => {
      stdout += chunk;
      if (stdout.includes("# ready:")) ready();
    });
    child.once("exit", (code) => fail(new Error(`exited ${code} before ready: ${stderr}`)));
  });
  return { child, stdout, stderr: () => stderr };
}

async function stop(started: Started, signal: NodeJS.Signals): Promise<number | null> {
  const exited = once(started.child, "exit");
  started.child.kill(signal);
  const [code] = await exited;
  return code as number | null;
}

/** Any fixed token: the command's Key Vault emulator accepts every bearer token. */
const anyToken: TokenCredential = {
  async getToken(): Promise<AccessToken> {
    return { token: "any-token", expiresOnTimestamp: Date.now() + 3_600_000, tokenType: "Bearer" };
  },
};

describe("kms-envelope-emulators, as a separate process", () => {
  it("serves all four emulators, prints a config, keeps keys across a restart, stops on SIGTERM and SIGINT", async () => {
    const state = mkdtempSync(join(tmpdir(), "kms-emulators-"));
    const first = await start([
      "--state",
      state,
      ...["aws", "gcp", "azure", "vault"].flatMap((cloud) => ["--port", `${cloud}=0`]),
    ]);
    const ports = JSON.parse(readFileSync(join(state, "ports.json"), "utf8")) as Record<string, number>;
    expect(Object.keys(ports).sort()).toEqual(["aws", "azure", "gcp", "vault"]);
    const config = readFileSync(join(state, "kms-envelope.yaml"), "utf8");
    expect(first.stdout.startsWith(config)).toBe(true);
    const awsKey = /"aws-kms:\/\/(arn:aws:kms:us-east-1:111122223333:key\/[0-9a-f-]{36})"/.exec(config)![1]!;
    expect(config).toContain('"gcp-kms://projects/demo/locations/global/keyRings/demo/cryptoKeys/demo"');
    expect(config).toContain(`"azure-keyvault://127.0.0.1:${ports.azure}/keys/demo"`);
    expect(config).toContain(`endpoint: "http://127.0.0.1:${ports.aws}"`);
    expect(config).toContain(`caFile: ${JSON.stringify(join(state, "azure-ca.pem"))}`);
    expect(config).toContain(`"vault-transit://127.0.0.1:${ports.vault}/transit/keys/demo?derived=true"`);
    expect(config).toContain(`tokenFile: ${JSON.stringify(join(state, "vault-token"))}`);
    expect(statSync(join(state, "aws-kms.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(state, "azure-tls-key.pem")).mode & 0o777).toBe(0o600);

    // Real SDK clients, any static credentials.
    const awsClient = () =>
      new KMSClient({
        endpoint: `http://127.0.0.1:${ports.aws}`,
        region: "us-east-1",
        credentials: { accessKeyId: "AKIDANYTHING", secretAccessKey: "anything" },
        maxAttempts: 1,
      });
    const plaintext = new Uint8Array(32).fill(7);
    let aws = awsClient();
    const awsBlob = (await aws.send(new EncryptCommand({ KeyId: "alias/demo", Plaintext: plaintext })))
      .CiphertextBlob!;
    aws.destroy();
    const gcpName = "projects/demo/locations/global/keyRings/demo/cryptoKeys/demo";
    let gcp = createEmulatorClient("127.0.0.1", ports.gcp!);
    const [gcpResult] = await gcp.encrypt({ name: gcpName, plaintext });
    await gcp.close();
    const caPem = readFileSync(join(state, "azure-ca.pem"), "utf8");
    const azureClient = () =>
      new CryptographyClient(`https://127.0.0.1:${ports.azure}/keys/demo`, anyToken, {
        tlsOptions: { ca: caPem },
        disableChallengeResourceVerification: true,
        retryOptions: { maxRetries: 0 },
      });
    const azureWrapped = await azureClient().wrapKey("RSA-OAEP-256", plaintext);

    expect(await stop(first, "SIGTERM")).toBe(0);
    expect(first.stderr()).toContain("SIGTERM, stopping");

    // Same state directory, no port flags: the same ports and the same keys (nothing seeded twice).
    const second = await start(["--state", state]);
    expect(readFileSync(join(state, "kms-envelope.yaml"), "utf8")).toBe(config);
    aws = awsClient();
    const decrypted = await aws.send(new DecryptCommand({ CiphertextBlob: awsBlob }));
    expect(decrypted.KeyId).toBe(awsKey);
    expect([...decrypted.Plaintext!]).toEqual([...plaintext]);
    aws.destroy();
    gcp = createEmulatorClient("127.0.0.1", ports.gcp!);
    const [gcpPlain] = await gcp.decrypt({ name: gcpName, ciphertext: gcpResult.ciphertext! });
    expect([...(gcpPlain.plaintext as Uint8Array)]).toEqual([...plaintext]);
    await gcp.close();
    const unwrapped = await azureClient().unwrapKey("RSA-OAEP-256", azureWrapped.result);
    expect([...unwrapped.result]).toEqual([...plaintext]);
    expect(await stop(second, "SIGINT")).toBe(0);
    expect(second.stderr()).toContain("SIGINT, stopping");
  }, 120_000);

  it("starts only the named clouds, seeds from a file, and refuses unknown names and seed fields", async () => {
    const state = mkdtempSync(join(tmpdir(), "kms-emulators-"));
    const seeds = join(state, "seeds.json");
    writeFileSync(
      seeds,
      JSON.stringify({
        gcp: [
          { project: "p1", keyRing: "r", id: "a" },
          { project: "p2", location: "europe-west1", keyRing: "r", id: "b" },
        ],
      }),
    );
    const started = await start(["gcp", "--state", state, "--seed", seeds, "--port", "gcp=0"]);
    expect(started.stdout).not.toContain("aws-kms");
    expect(started.stdout).not.toContain("azure-keyvault");
    expect(started.stdout).not.toContain("vault-transit");
    expect(started.stdout).toContain('"gcp-kms://projects/p1/locations/global/keyRings/r/cryptoKeys/a"');
    expect(started.stdout).toContain(
      '"gcp-kms://projects/p2/locations/europe-west1/keyRings/r/cryptoKeys/b"',
    );
    expect(started.stdout).not.toContain("default: all");
    expect(await stop(started, "SIGTERM")).toBe(0);

    const refused = async (args: string[]) => {
      const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"] });
      let stderr = "";
      child.stderr.on("data", (chunk) => {
        stderr += chunk;
      });
      const [code] = await once(child, "exit");
      return { code, stderr };
    };
    expect(await refused(["vault-x", "--state", state])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('unknown emulator "vault-x"'),
    });
    writeFileSync(seeds, JSON.stringify({ gcp: [{ project: "p", keyRing: "r", id: "a", lcoation: "x" }] }));
    expect(await refused(["gcp", "--state", state, "--seed", seeds])).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('gcp[0] has unknown field "lcoation"'),
    });
    expect(await refused(["--port", "aws"])).toMatchObject({ code: 2 });
  }, 120_000);

  it("serves Vault transit with a root token kept in the state directory, and keeps its keys across a restart", async () => {
    const state = mkdtempSync(join(tmpdir(), "kms-emulators-"));
    const seeds = join(state, "seeds.json");
    writeFileSync(
      seeds,
      JSON.stringify({ vault: [{ name: "orders", mount: "eu/transit", derived: "true" }] }),
    );
    const first = await start(["vault", "--state", state, "--seed", seeds, "--port", "vault=0"]);
    const port = (JSON.parse(readFileSync(join(state, "ports.json"), "utf8")) as Record<string, number>)
      .vault!;
    const tokenFile = join(state, "vault-token");
    expect(first.stdout).toContain(`"vault-transit://127.0.0.1:${port}/eu/transit/keys/orders?derived=true"`);
    expect(first.stdout).toContain(`tokenFile: ${JSON.stringify(tokenFile)}`);
    expect(first.stdout).toContain("tls: false");
    expect(statSync(tokenFile).mode & 0o777).toBe(0o600);
    const token = readFileSync(tokenFile, "utf8").trim();
    const post = async (path: string, body: Record<string, unknown>) => {
      const answer = await fetch(`http://127.0.0.1:${port}/v1/eu/transit/${path}/orders`, {
        method: "POST",
        headers: { "X-Vault-Token": token },
        body: JSON.stringify(body),
      });
      return (await answer.json()) as { data?: Record<string, string>; errors?: string[] };
    };
    const context = Buffer.from("c").toString("base64");
    const plaintext = Buffer.from("seven").toString("base64");
    const sealed = (await post("encrypt", { plaintext, context })).data!.ciphertext!;
    expect(await stop(first, "SIGTERM")).toBe(0);
    expect(statSync(join(state, "vault-transit.json")).mode & 0o777).toBe(0o600);

    const second = await start(["vault", "--state", state, "--seed", seeds]);
    expect((await post("decrypt", { ciphertext: sealed, context })).data?.plaintext).toBe(plaintext);
    expect(await stop(second, "SIGINT")).toBe(0);

    writeFileSync(seeds, JSON.stringify({ vault: [{ name: "k", derived: "yes" }] }));
    const refused = spawn(process.execPath, [BIN, "vault", "--state", state, "--seed", seeds], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stderr = "";
    refused.stderr.on("data", (chunk) => {
      stderr += chunk;
    });
    const [code] = await once(refused, "exit");
    expect([code, stderr]).toEqual([
      1,
      expect.stringContaining('vault[0].derived must be "true" or "false"'),
    ]);
  }, 120_000);
});
