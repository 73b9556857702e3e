import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "@kms-envelope/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/index.js";

// The README's "try all three clouds on your machine" (Vault transit too), command by command:
// the emulators command in one process, the example program in others.
const EMULATORS_BIN = join(
  dirname(createRequire(import.meta.url).resolve("@kms-envelope/emulators/package.json")),
  "dist/bin/kms-envelope-emulators.js",
);
const EXAMPLE = fileURLToPath(new URL("../examples/envelope.mjs", import.meta.url));

let emulators: ChildProcess;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kms-try-clouds-"));
  emulators = spawn(
    process.execPath,
    [
      EMULATORS_BIN,
      "--state",
      join(dir, ".emulators"),
      ...["aws", "gcp", "azure", "vault"].flatMap((cloud) => ["--port", `${cloud}=0`]),
    ],
    { stdio: ["ignore", "pipe", "ignore"] },
  );
  let out = "";
  await new Promise<void>((ready, fail) => {
    emulators.stdout!.on("data", (chunk) => {
      out += chunk;
      if (out.includes("# ready:")) ready();
    });
    emulators.once("exit", (code) => fail(new Error(`emulators exited ${code}`)));
  });
});
afterAll(async () => {
  const exited = once(emulators, "exit");
  emulators.kill("SIGINT");
  expect((await exited)[0]).toBe(0);
});

async function example(args: string[], input: Buffer) {
  const child = spawn(process.execPath, [EXAMPLE, ...args], {
    env: { ...process.env, KMS_ENVELOPE_CONFIG: join(dir, ".emulators", "kms-envelope.yaml") },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
  child.stdin!.end(input);
  const [code] = await once(child, "exit");
  return { code, stdout: Buffer.concat(stdout), stderr };
}

it("the printed config loads with @kms-envelope/config as it is: a profile per emulator and all", async () => {
  const state = join(dir, ".emulators");
  const config = await loadConfig({ path: join(state, "kms-envelope.yaml"), env: {} });
  expect(config?.defaultProfile).toBe("all");
  expect(Object.keys(config!.profiles)).toEqual(["all", "aws", "gcp", "azure", "vault"]);
  expect(config!.profiles.vault!.providers).toEqual({
    "vault-transit": { tokenFile: join(state, "vault-token"), tls: false },
  });
  expect(Object.keys(config!.profiles.all!.providers)).toEqual([
    "aws-kms",
    "gcp-kms",
    "azure-keyvault",
    "vault-transit",
  ]);
});

it("one envelope wrapped for AWS, GCP, Azure and Vault, decrypted with each alone", async () => {
  const secret = Buffer.from("three clouds, one envelope\n");
  const encrypted = await example(["encrypt"], secret);
  expect(encrypted.code).toBe(0);
  expect(encrypted.stderr).toContain("encrypted with profile all");
  writeFileSync(join(dir, "demo.kmse"), encrypted.stdout);
  expect(inspect(new Uint8Array(encrypted.stdout)).wrappedKeys.map((entry) => entry.provider)).toEqual([
    "aws-kms",
    "gcp-kms",
    "azure-keyvault",
    "vault-transit",
  ]);
  for (const [profile, provider] of [
    ["aws", "aws-kms"],
    ["gcp", "gcp-kms"],
    ["azure", "azure-keyvault"],
    ["vault", "vault-transit"],
  ]) {
    const decrypted = await example(["decrypt", profile!], readFileSync(join(dir, "demo.kmse")));
    expect(decrypted.stderr).toMatch(new RegExp(`^decrypted with profile ${profile}: ${provider} `));
    expect(decrypted.code).toBe(0);
    expect(decrypted.stdout.toString()).toBe(secret.toString());
  }
});
