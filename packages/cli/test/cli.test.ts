import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { beforeEach, describe, expect, it } from "vitest";

const bin = fileURLToPath(new URL("../dist/bin.js", import.meta.url));
let work: string;
let env: NodeJS.ProcessEnv;

function cli(args: string[], options: { input?: string | Buffer; env?: NodeJS.ProcessEnv } = {}) {
  const result = spawnSync(process.execPath, [bin, ...args], {
    input: options.input,
    env: { ...env, ...options.env },
    cwd: work,
  });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr.toString() };
}

beforeEach(() => {
  work = mkdtempSync(join(tmpdir(), "kms-envelope-cli-"));
  env = { PATH: process.env.PATH, KMS_ENVELOPE_KEYSTORE: join(work, "keystore.json") };
  expect(cli(["keys", "create", "app"]).status).toBe(0);
});

describe("kms-envelope CLI", () => {
  it("encrypt → inspect → decrypt through files", () => {
    writeFileSync(join(work, "in.txt"), "hello from the CLI");
    const encrypted = cli([
      "encrypt",
      "--key",
      "local://app",
      "--context",
      "env=prod",
      "-i",
      "in.txt",
      "-o",
      "out.kmse",
    ]);
    expect(encrypted.status, encrypted.stderr).toBe(0);
    const inspected = cli(["inspect", "-i", "out.kmse", "--json"]);
    const info = JSON.parse(inspected.stdout.toString());
    expect(info.context).toEqual({ env: "prod" });
    expect(info.wrappedKeys[0]).toMatchObject({ provider: "local", keyId: "app" });
    const decrypted = cli([
      "decrypt",
      "--key",
      "local://app",
      "--expect-context",
      "env=prod",
      "-i",
      "out.kmse",
      "-o",
      "back.txt",
    ]);
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(readFileSync(join(work, "back.txt"), "utf8")).toBe("hello from the CLI");
  });

  it("streams through standard input and output, in the armored form, with keys from KMS_ENVELOPE_KEYS", () => {
    const keys = { KMS_ENVELOPE_KEYS: "local://app" };
    const encrypted = cli(["encrypt", "--armor"], { input: "piped data", env: keys });
    expect(encrypted.status, encrypted.stderr).toBe(0);
    expect(encrypted.stdout.toString()).toMatch(/^kmse1:[A-Za-z0-9_-]+\n$/);
    const decrypted = cli(["decrypt"], { input: encrypted.stdout, env: keys });
    expect(decrypted.stdout.toString()).toBe("piped data");
  });

  it("keys: list, rotate, and old envelopes still decrypt", () => {
    const before = cli(["encrypt", "--key", "local://app"], { input: "v1" });
    expect(cli(["keys", "rotate", "app"]).stdout.toString()).toContain("v2 (2 versions)");
    const listed = JSON.parse(cli(["keys", "list", "--json"]).stdout.toString());
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: "app", primaryVersion: 2 });
    expect(cli(["decrypt", "--key", "local://app"], { input: before.stdout }).stdout.toString()).toBe("v1");
  });

  it("on failure: one line naming the code, a documented status, and no output file", () => {
    const encrypted = cli(["encrypt", "--key", "local://app", "--context", "env=prod"], { input: "secret" });
    const tampered = Buffer.from(encrypted.stdout);
    tampered[tampered.length - 1]! ^= 1;
    writeFileSync(join(work, "tampered.kmse"), tampered);
    const failed = cli(["decrypt", "--key", "local://app", "-i", "tampered.kmse", "-o", "plain.txt"]);
    expect(failed.status).toBe(4);
    expect(failed.stderr).toMatch(/^kms-envelope: error TAMPERED: [^\n]+\n$/);
    expect(existsSync(join(work, "plain.txt"))).toBe(false);
    expect(readdirSync(work).filter((name) => name.endsWith(".tmp"))).toEqual([]);

    writeFileSync(join(work, "good.kmse"), encrypted.stdout);
    const wrongContext = cli([
      "decrypt",
      "--key",
      "local://app",
      "--expect-context",
      "env=dev",
      "-i",
      "good.kmse",
      "-o",
      "x",
    ]);
    expect(wrongContext.status).toBe(5);
    expect(wrongContext.stderr).toContain("CONTEXT_MISMATCH");
    expect(existsSync(join(work, "x"))).toBe(false);
  });

  it("usage errors and missing providers exit 2 with the code", () => {
    expect(cli(["frobnicate"]).status).toBe(2);
    expect(cli(["encrypt"], { input: "x" }).stderr).toContain("INVALID_ARGUMENT");
    const missing = cli(["encrypt", "--key", "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k"], {
      input: "x",
    });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("PROVIDER_NOT_INSTALLED");
    expect(missing.stderr).toContain("@kms-envelope/gcp-kms");
  });

  it("a disabled key is refused with KEY_DISABLED (status 3)", () => {
    cli(["keys", "disable", "app"]);
    const failed = cli(["encrypt", "--key", "local://app"], { input: "x" });
    expect(failed.status).toBe(3);
    expect(failed.stderr).toContain("KEY_DISABLED");
  });
});
