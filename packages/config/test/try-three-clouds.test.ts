import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { inspect } from "@kms-envelope/core";
import { afterAll, beforeAll, expect, it } from "vitest";
import { loadConfig } from "../src/index.js";

// The README's "try all three clouds on your machine" (Vault transit too), command by command:
// the emulators command in one process, then each line of the README's second block, read from
// README.md and run by bash in a directory laid out like the clone (README.md, packages/cli).
const EMULATORS_BIN = join(
  dirname(createRequire(import.meta.url).resolve("@kms-envelope/emulators/package.json")),
  "dist/bin/kms-envelope-emulators.js",
);
const ROOT = fileURLToPath(new URL("../../../", import.meta.url));

/** The shell lines of the README section's second `sh` block. */
function readmeCommands(): string[] {
  const readme = readFileSync(join(ROOT, "README.md"), "utf8");
  const section = readme.slice(readme.indexOf("## Try all three clouds"), readme.indexOf("## Packages"));
  const blocks = [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
  expect(blocks).toHaveLength(2);
  return blocks[1]!.split("\n").filter((line) => line.trim().length > 0);
}

let emulators: ChildProcess;
let dir: string;
beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "kms-try-clouds-"));
  mkdirSync(join(dir, "packages"));
  symlinkSync(join(ROOT, "packages", "cli"), join(dir, "packages", "cli"), "dir");
  copyFileSync(join(ROOT, "README.md"), join(dir, "README.md"));
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

async function shell(line: string) {
  const child = spawn("bash", ["-c", line], {
    cwd: dir,
    // No config found by other means: the line's --config and --profile choose the keys.
    env: { PATH: `${dirname(process.execPath)}:${process.env.PATH}`, HOME: dir },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const stdout: Buffer[] = [];
  let stderr = "";
  child.stdout!.on("data", (chunk: Buffer) => stdout.push(chunk));
  child.stderr!.on("data", (chunk) => {
    stderr += chunk;
  });
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

it("the README's commands: one envelope wrapped for AWS, GCP, Azure and Vault, decrypted with each alone", async () => {
  const [encrypt, ...decrypts] = readmeCommands();
  expect(encrypt).toMatch(/ encrypt --config \.emulators\/kms-envelope\.yaml --profile all /);
  const encrypted = await shell(encrypt!);
  expect(encrypted.code, encrypted.stderr).toBe(0);
  expect(inspect(readFileSync(join(dir, "demo.kmse"))).wrappedKeys.map((entry) => entry.provider)).toEqual([
    "aws-kms",
    "gcp-kms",
    "azure-keyvault",
    "vault-transit",
  ]);
  const expected = [
    ["aws", "aws-kms"],
    ["gcp", "gcp-kms"],
    ["azure", "azure-keyvault"],
    ["vault", "vault-transit"],
  ];
  expect(decrypts).toHaveLength(expected.length);
  for (const [index, [profile, provider]] of expected.entries()) {
    const line = decrypts[index]!;
    expect(line).toContain(` decrypt --config .emulators/kms-envelope.yaml --profile ${profile} `);
    const decrypted = await shell(line);
    expect(decrypted.code, decrypted.stderr).toBe(0);
    expect(decrypted.stderr).toContain(`with ${provider}:`);
    expect(decrypted.stdout.toString()).toBe(readFileSync(join(ROOT, "README.md"), "utf8"));
  }
});
