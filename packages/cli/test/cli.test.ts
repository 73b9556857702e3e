import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, cliSync, ONE_ERROR_LINE, type Workspace, workspace } from "./helpers.js";

let ws: Workspace;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);

beforeAll(assertBuilt);
beforeEach(async () => {
  ws = await workspace();
  expect(cli(["keys", "create", "app"]).status).toBe(0);
});

describe("round trips", () => {
  it("encrypt → inspect → decrypt through files", () => {
    writeFileSync(join(ws.dir, "in.txt"), "hello from the CLI");
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
    expect(encrypted.stderr).toMatch(
      /^encrypted 18 bytes → \d+-byte envelope for local:app \(context env=prod\)\n$/,
    );
    const info = JSON.parse(cli(["inspect", "-i", "out.kmse", "--json"]).stdout.toString());
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
    expect(readFileSync(join(ws.dir, "back.txt"), "utf8")).toBe("hello from the CLI");
  });

  it("streams through standard input and output, armored, with keys from KMS_ENVELOPE_KEYS", () => {
    const keys = { KMS_ENVELOPE_KEYS: "local://app" };
    const encrypted = cli(["encrypt", "--armor"], { input: "piped data", env: keys });
    expect(encrypted.status, encrypted.stderr).toBe(0);
    expect(encrypted.stdout.toString()).toMatch(/^kmse1:[A-Za-z0-9_-]+\n$/);
    const decrypted = cli(["decrypt"], { input: encrypted.stdout, env: keys });
    expect(decrypted.stdout.toString()).toBe("piped data");
  });

  it("an armored envelope wrapped across lines decrypts and inspects", () => {
    const armored = cli(["encrypt", "-k", "local://app", "--armor"], { input: "wrapped lines" })
      .stdout.toString()
      .trim();
    const folded = `  ${armored.match(/.{1,40}/g)!.join("\n")}\n`;
    expect(cli(["decrypt", "-k", "local://app"], { input: folded }).stdout.toString()).toBe("wrapped lines");
    expect(
      JSON.parse(cli(["inspect", "--json"], { input: folded }).stdout.toString()).wrappedKeys,
    ).toHaveLength(1);
    const bad = cli(["decrypt", "-k", "local://app"], {
      input: `${armored.slice(0, 30)}!${armored.slice(31)}`,
    });
    expect(bad.status).toBe(4);
    expect(bad.stderr).toMatch(ONE_ERROR_LINE("MALFORMED"));
  });

  it("decrypt without --key uses only the local keystore's keys", () => {
    const encrypted = cli(["encrypt", "-k", "local://app"], { input: "found by discovery" });
    const decrypted = cli(["decrypt"], { input: encrypted.stdout });
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(decrypted.stdout.toString()).toBe("found by discovery");
    // Another keystore does not hold "app": nothing else is tried, and the message names that keystore.
    const other = join(ws.dir, "other.json");
    const failed = cli(["decrypt", "--keystore", other], { input: encrypted.stdout });
    expect(failed.status).toBe(3);
    expect(failed.stderr).toMatch(ONE_ERROR_LINE("NO_USABLE_KEY"));
    expect(failed.stderr).toContain("local:app");
  });

  it("keys: list, rotate, and old envelopes still decrypt", () => {
    const before = cli(["encrypt", "--key", "local://app"], { input: "v1" });
    expect(cli(["keys", "rotate", "app"]).stdout.toString()).toContain("v2 (2 versions)");
    const listed = JSON.parse(cli(["keys", "list", "--json"]).stdout.toString());
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({ name: "app", primaryVersion: 2 });
    expect(cli(["decrypt", "--key", "local://app"], { input: before.stdout }).stdout.toString()).toBe("v1");
  });
});

describe("rewrap", () => {
  it("many files in place: a summary per file, the others still done when one fails, the first failure's status; --json", () => {
    expect(cli(["keys", "create", "next"]).status).toBe(0);
    for (const name of ["a.kmse", "b.kmse"]) {
      writeFileSync(join(ws.dir, name), cli(["encrypt", "-k", "local://app"], { input: name }).stdout);
    }
    writeFileSync(join(ws.dir, "broken.kmse"), "not an envelope");
    const result = cli(["rewrap", "--to", "local://next", "--in-place", "a.kmse", "broken.kmse", "b.kmse"]);
    expect(result.status).toBe(4);
    expect(result.stderr.split("\n")).toEqual([
      "rewrapped a.kmse: added local:next; kept local:app",
      expect.stringMatching(/^kms-envelope: error MALFORMED: broken.kmse: /),
      "rewrapped b.kmse: added local:next; kept local:app",
      "rewrap: 2 of 3 files rewrapped, 1 failed",
      "",
    ]);
    expect(readFileSync(join(ws.dir, "broken.kmse"), "utf8")).toBe("not an envelope");
    expect(cli(["decrypt", "-k", "local://next", "-i", "b.kmse"]).stdout.toString()).toBe("b.kmse");
    const json = cli(["rewrap", "--remove", "local://app", "--in-place", "a.kmse", "--json"]);
    expect(json.status, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout.toString())).toEqual([
      {
        file: "a.kmse",
        ok: true,
        added: [],
        removed: [{ provider: "local", keyId: "app" }],
        kept: [{ provider: "local", keyId: "next" }],
        reencrypted: 0,
      },
    ]);
  });
});

describe("keys audit", () => {
  it("prints the records; a damaged line is skipped and named by number, its text never shown", () => {
    cli(["keys", "rotate", "app"]);
    const log = join(ws.dir, "keystore.audit.jsonl");
    writeFileSync(log, `${readFileSync(log, "utf8")}{"time": "torn secret-looking text\n`);
    const lines = readFileSync(log, "utf8").split("\n").filter(Boolean).length;
    const audit = cli(["keys", "audit", "app"]);
    expect(audit.status).toBe(0);
    expect(audit.stderr).toBe(`audit log line ${lines} is damaged; skipped\n`);
    expect(audit.stdout.toString()).toMatch(/\tcreate\tapp v1\tok\n.*\trotate\tapp v2\tok\n$/s);
    expect(audit.stdout.toString()).not.toContain("torn");
  });
});

describe("failures", () => {
  it("one line naming the code, a documented status, and no output file", () => {
    const encrypted = cli(["encrypt", "--key", "local://app", "--context", "env=prod"], { input: "secret" });
    const tampered = Buffer.from(encrypted.stdout);
    tampered[tampered.length - 1]! ^= 1;
    writeFileSync(join(ws.dir, "tampered.kmse"), tampered);
    const failed = cli(["decrypt", "--key", "local://app", "-i", "tampered.kmse", "-o", "plain.txt"]);
    expect(failed.status).toBe(4);
    expect(failed.stderr).toMatch(ONE_ERROR_LINE("TAMPERED"));
    expect(existsSync(join(ws.dir, "plain.txt"))).toBe(false);
    expect(readdirSync(ws.dir).filter((name) => name.includes("tmp"))).toEqual([]);

    writeFileSync(join(ws.dir, "good.kmse"), encrypted.stdout);
    const wrongContext = cli([
      "decrypt",
      "-k",
      "local://app",
      "--expect-context",
      "env=dev",
      "-i",
      "good.kmse",
      "-o",
      "x",
    ]);
    expect(wrongContext.status).toBe(5);
    expect(wrongContext.stderr).toMatch(ONE_ERROR_LINE("CONTEXT_MISMATCH"));
    expect(existsSync(join(ws.dir, "x"))).toBe(false);
  });

  it("a missing local key names the keystore it looked in", () => {
    const failed = cli(["encrypt", "-k", "local://nokey"], { input: "x" });
    expect(failed.status).toBe(3);
    expect(failed.stderr).toMatch(ONE_ERROR_LINE("KEY_NOT_FOUND"));
    expect(failed.stderr).toContain(join(ws.dir, "keystore.json"));
  });

  it("a corrupt keystore is KEYSTORE_ERROR (status 8) on encrypt and on decrypt, with or without --key", () => {
    const envelope = cli(["encrypt", "-k", "local://app"], { input: "x" }).stdout;
    writeFileSync(join(ws.dir, "keystore.json"), "{ not json");
    for (const args of [["encrypt", "-k", "local://app"], ["decrypt", "-k", "local://app"], ["decrypt"]]) {
      const failed = cli(args, { input: args[0] === "encrypt" ? "x" : envelope });
      expect(failed.status, args.join(" ")).toBe(8);
      expect(failed.stderr).toMatch(ONE_ERROR_LINE("KEYSTORE_ERROR"));
    }
  });

  it("a disabled key is refused with KEY_DISABLED (status 3)", () => {
    cli(["keys", "disable", "app"]);
    const failed = cli(["encrypt", "--key", "local://app"], { input: "x" });
    expect(failed.status).toBe(3);
    expect(failed.stderr).toMatch(ONE_ERROR_LINE("KEY_DISABLED"));
  });

  it("an unknown key URI scheme is INVALID_ARGUMENT (status 2)", () => {
    const unknown = cli(["encrypt", "--key", "vault-x://k"], { input: "x" });
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    expect(unknown.stderr).toContain('unknown key URI scheme "vault-x://"');
  });
});

describe("strict options, help, version", () => {
  it("an option of another command is refused, naming the command's options", () => {
    const encrypted = cli(["encrypt", "-k", "local://app", "--context", "env=staging"], { input: "x" });
    const wrong = cli(["decrypt", "--context", "env=staging"], { input: encrypted.stdout });
    expect(wrong.status).toBe(2);
    expect(wrong.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    expect(wrong.stderr).toContain("did you mean --expect-context?");
    expect(wrong.stderr).toContain("--key, --profile, --config, --keystore, --expect-context");
    expect(wrong.stdout.length).toBe(0);
    for (const [command, option] of [
      ["encrypt", "--expect-context=a=b"],
      ["decrypt", "--armor"],
      ["inspect", "--key=local://app"],
      ["keys", "--context=a=b"],
    ] as const) {
      const refused = cli([command, option], { input: encrypted.stdout });
      expect(refused.status, `${command} ${option}`).toBe(2);
      expect(refused.stderr).toContain(`${command} does not take ${option.split("=")[0]}`);
    }
    const waiting = cli(["keys", "rotate", "app", "--waiting-days", "9"]);
    expect(waiting.status).toBe(2);
    expect(waiting.stderr).toContain("only schedule-deletion");
  });

  it("a repeated --key wraps the data key once", () => {
    const encrypted = cli(["encrypt", "-k", "local://app", "--key", "local://app"], { input: "x" });
    expect(encrypted.status, encrypted.stderr).toBe(0);
    const info = JSON.parse(cli(["inspect", "--json"], { input: encrypted.stdout }).stdout.toString());
    expect(info.wrappedKeys).toHaveLength(1);
    expect(cli(["encrypt", "-i", "a", "-i", "b", "-k", "local://app"]).stderr).toContain(
      "--input is given more than once",
    );
  });

  it("--help, help COMMAND and --version print on standard output and exit 0", () => {
    const help = cli(["--help"]);
    expect(help.status).toBe(0);
    for (const command of ["encrypt", "decrypt", "inspect", "rewrap", "keys"])
      expect(help.stdout.toString()).toContain(command);
    for (const args of [
      ["help", "decrypt"],
      ["decrypt", "--help"],
    ]) {
      const one = cli(args);
      expect(one.status).toBe(0);
      expect(one.stdout.toString()).toContain("--expect-context K=V");
      expect(one.stdout.toString()).not.toContain("--armor");
    }
    const version = cli(["--version"]);
    expect(version.status).toBe(0);
    const manifest = JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8"));
    expect(version.stdout.toString()).toBe(`kms-envelope ${manifest.version}\n`);
  });

  it("no arguments: one error line with a hint, status 2; an unknown command likewise", () => {
    const none = cli([]);
    expect(none.status).toBe(2);
    expect(none.stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
    expect(none.stderr).toContain("--help");
    expect(cli(["frobnicate"]).stderr).toMatch(ONE_ERROR_LINE("INVALID_ARGUMENT"));
  });

  it("--json on encrypt and decrypt: bytes, keys, context, message id; --quiet prints nothing but data", () => {
    writeFileSync(join(ws.dir, "in.txt"), "json please");
    const encrypted = cli([
      "encrypt",
      "-k",
      "local://app",
      "-c",
      "a=b",
      "-i",
      "in.txt",
      "-o",
      "e.kmse",
      "--json",
    ]);
    const summary = JSON.parse(encrypted.stdout.toString());
    expect(summary).toMatchObject({
      command: "encrypt",
      plaintextBytes: 11,
      context: { a: "b" },
      keys: [{ provider: "local", keyId: "app" }],
    });
    expect(summary.messageId).toMatch(/^[0-9a-f]{64}$/);
    expect(summary.envelopeBytes).toBe(readFileSync(join(ws.dir, "e.kmse")).length);
    // Data on standard output: the JSON goes to standard error instead.
    const decrypted = cli(["decrypt", "-i", "e.kmse", "--json"]);
    expect(decrypted.stdout.toString()).toBe("json please");
    expect(JSON.parse(decrypted.stderr)).toMatchObject({
      command: "decrypt",
      plaintextBytes: 11,
      messageId: summary.messageId,
      context: { a: "b" },
    });
    const quiet = cli(["decrypt", "-i", "e.kmse", "-o", "q.txt", "--quiet"]);
    expect(quiet.status).toBe(0);
    expect(quiet.stderr).toBe("");
    expect(quiet.stdout.length).toBe(0);
  });
});
