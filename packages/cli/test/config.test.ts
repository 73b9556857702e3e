import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "@kms-envelope/core";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, cliSync, ONE_ERROR_LINE, type Workspace, workspace } from "./helpers.js";

let ws: Workspace;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);
const keyIds = (file: string) => inspect(readFileSync(join(ws.dir, file))).wrappedKeys.map((k) => k.keyId);

beforeAll(assertBuilt);
beforeEach(async () => {
  ws = await workspace("kms-envelope-config-");
  for (const name of ["old", "new", "prod"]) expect(cli(["keys", "create", name]).status).toBe(0);
  // Profile a: the key being left; b: the new key wraps, the old one only unwraps.
  writeFileSync(
    join(ws.dir, "kms-envelope.yaml"),
    `default: a
profiles:
  a:
    encrypt: ["local://old"]
    context: { app: orders }
  b:
    encrypt: ["local://new"]
    decrypt: ["local://old"]
    context: { app: orders }
    requireContext: [app]
  prod:
    encrypt: ["local://prod"]
rules:
  - path: "secrets/prod/**"
    profile: prod
`,
  );
});

describe("profiles from the config file found upward", () => {
  it("encrypt uses the default profile's keys and context defaults; --context adds to them", () => {
    writeFileSync(join(ws.dir, "in.txt"), "orders");
    const result = cli(["encrypt", "-i", "in.txt", "-o", "a.kmse", "-c", "tenant=acme"]);
    expect(result.status, result.stderr).toBe(0);
    const info = inspect(readFileSync(join(ws.dir, "a.kmse")));
    expect(info.wrappedKeys.map((k) => k.keyId)).toEqual(["old"]);
    expect(info.context).toEqual({ app: "orders", tenant: "acme" });
  });

  it("a path rule picks the profile for -i; config show says which rule", () => {
    mkdirSync(join(ws.dir, "secrets", "prod"), { recursive: true });
    writeFileSync(join(ws.dir, "secrets", "prod", "db.json"), "{}");
    expect(cli(["encrypt", "-i", "secrets/prod/db.json", "-o", "db.kmse"]).status).toBe(0);
    expect(keyIds("db.kmse")).toEqual(["prod"]);
    const shown = JSON.parse(
      cli(["config", "show", "--path", "secrets/prod/db.json", "--json"]).stdout.toString(),
    );
    expect(shown).toMatchObject({
      profile: "prod",
      chosenBy: "rule",
      rule: { index: 0, pattern: "secrets/prod/**" },
    });
    expect(shown.file).toBe(join(ws.dir, "kms-envelope.yaml"));
  });

  it("migration: old envelopes decrypt under B, new ones are wrapped for B only, rewrap --profile b moves the old files", () => {
    writeFileSync(join(ws.dir, "in.txt"), "moving");
    expect(cli(["encrypt", "-i", "in.txt", "-o", "one.kmse"]).status).toBe(0);
    expect(cli(["encrypt", "-i", "in.txt", "-o", "two.kmse"]).status).toBe(0);
    const underB = cli(["decrypt", "--profile", "b", "-i", "one.kmse"]);
    expect(underB.status, underB.stderr).toBe(0);
    expect(underB.stdout.toString()).toBe("moving");
    expect(cli(["encrypt", "--profile", "b", "-i", "in.txt", "-o", "fresh.kmse"]).status).toBe(0);
    expect(keyIds("fresh.kmse")).toEqual(["new"]);

    const rewrapped = cli(["rewrap", "--profile", "b", "--in-place", "one.kmse", "two.kmse"]);
    expect(rewrapped.status, rewrapped.stderr).toBe(0);
    expect(rewrapped.stderr).toContain("rewrapped one.kmse: added local:new; removed local:old");
    expect(keyIds("one.kmse")).toEqual(["new"]);
    expect(keyIds("two.kmse")).toEqual(["new"]);
    // Now only B's new key can read them: profile a (old key only) cannot.
    expect(cli(["decrypt", "--profile", "a", "-i", "two.kmse"]).status).toBe(3);
    expect(cli(["decrypt", "--profile", "b", "-i", "two.kmse"]).stdout.toString()).toBe("moving");
  });

  it("the profile's requireContext is enforced on decrypt before any plaintext", () => {
    const bare = cli(["encrypt", "--key", "local://old", "-c", "other=x"], { input: "no app" });
    const refused = cli(["decrypt", "--profile", "b", "-o", "out.txt"], { input: bare.stdout });
    expect(refused.status).toBe(5);
    expect(refused.stderr).toMatch(ONE_ERROR_LINE("CONTEXT_MISMATCH"));
  });

  it("--key with decrypt: marks decrypt-only keys; KMS_ENVELOPE_KEYS too, and it wins over a file found by search", () => {
    const old = cli(["encrypt", "--key", "local://old"], { input: "x" }).stdout;
    const both = cli(["encrypt", "--key", "local://new", "--key", "decrypt:local://old"], { input: "y" });
    expect(both.status, both.stderr).toBe(0);
    expect(inspect(both.stdout).wrappedKeys.map((k) => k.keyId)).toEqual(["new"]);
    const read = cli(["decrypt"], {
      input: old,
      env: { KMS_ENVELOPE_KEYS: "local://new decrypt:local://old", KMS_ENVELOPE_CONFIG: "" },
    });
    expect(read.stdout.toString()).toBe("x");
  });

  it("--profile without a config file, and an unknown profile, are one-line INVALID_ARGUMENT errors", () => {
    const noFile = cli(["encrypt", "--profile", "b", "--config", "missing.yaml"], { input: "x" });
    expect(noFile.status).toBe(2);
    expect(noFile.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    const unknown = cli(["encrypt", "--profile", "prd"], { input: "x" });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toContain('no profile named "prd"');
  });
});

describe("config check and config show", () => {
  it("check: OK names the file and profiles; a bad file names file:line:column", () => {
    const ok = cli(["config", "check"]);
    expect(ok.status, ok.stderr).toBe(0);
    expect(ok.stdout.toString()).toBe(
      `${join(ws.dir, "kms-envelope.yaml")}: OK (found by search); profiles: a, b, prod; default: a; 1 path rule\n`,
    );
    writeFileSync(join(ws.dir, "bad.yaml"), 'profiles:\n  a:\n    encrpyt: ["local://old"]\n');
    const bad = cli(["config", "check", "--config", "bad.yaml"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    expect(bad.stderr).toContain("bad.yaml:3:");
  });

  it("show: the resolved keys, provider settings and what chose the profile", () => {
    writeFileSync(
      join(ws.dir, "cloud.yaml"),
      `profiles:\n  c:\n    encrypt: ["local://old"]\n    providers:\n      aws-kms: { region: eu-west-1, profile: ops }\n`,
    );
    const shown = cli(["config", "show", "--config", "cloud.yaml"]);
    expect(shown.status, shown.stderr).toBe(0);
    const text = shown.stdout.toString();
    expect(text).toContain("profile     c (chosen by the file's default)");
    expect(text).toContain("encrypt     local://old");
    expect(text).toContain('"region":"eu-west-1"');
    const byFlag = JSON.parse(cli(["config", "show", "--profile", "b", "--json"]).stdout.toString());
    expect(byFlag).toMatchObject({
      profile: "b",
      chosenBy: "argument",
      encrypt: ["local://new"],
      decrypt: ["local://old"],
    });
  });
});
