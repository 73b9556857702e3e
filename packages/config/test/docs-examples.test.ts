import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { globToRegExp } from "../src/glob.js";
import { loadConfig, parseConfig, selectProfile } from "../src/index.js";

const DOC = readFileSync(new URL("../../../docs/configuration.md", import.meta.url), "utf8");
// Blocks inside a numbered list are indented like their fence: take that indentation off.
const blocks = [...DOC.matchAll(/^( *)```yaml\n([\s\S]*?)^ *```/gm)]
  .map(([, indent, body]) => body!.replace(new RegExp(`^${indent}`, "gm"), ""))
  .filter((block) => block.includes("profiles:"));

describe("docs/configuration.md", () => {
  it("has its example files", () => {
    expect(blocks.length).toBe(7);
  });

  it.each(blocks.map((block, index) => [index, block] as const))(
    "example %i is a valid config file",
    (_, block) => {
      const config = parseConfig(block, { file: "/docs/kms-envelope.yaml" });
      expect(Object.keys(config.profiles).length).toBeGreaterThan(0);
    },
  );

  it("the path-rule example picks prod for secrets/prod/… and dev elsewhere", () => {
    const config = parseConfig(blocks.find((block) => block.includes("secrets/prod/**"))!, {
      file: "/app/kms-envelope.yaml",
    });
    expect(selectProfile(config, { env: {}, filePath: "/app/secrets/prod/db/main.json" }).name).toBe("prod");
    expect(selectProfile(config, { env: {}, filePath: "/app/secrets/dev/db.json" }).name).toBe("dev");
  });
});

describe("globs and file discovery as documented", () => {
  it("* stays in a segment, ** crosses segments (a/**/b matches a/b), ? is one character, the rest is literal", () => {
    expect(globToRegExp("secrets/*.json").test("secrets/db.json")).toBe(true);
    expect(globToRegExp("secrets/*.json").test("secrets/prod/db.json")).toBe(false);
    expect(globToRegExp("a/**/b").test("a/b")).toBe(true);
    expect(globToRegExp("a/**/b").test("a/x/y/b")).toBe(true);
    expect(globToRegExp("a/**").test("a/x/y")).toBe(true);
    expect(globToRegExp("db?.json").test("db1.json")).toBe(true);
    expect(globToRegExp("db?.json").test("db/.json")).toBe(false);
    expect(globToRegExp("a.b(c)").test("a.b(c)")).toBe(true);
    expect(globToRegExp("a.b").test("axb")).toBe(false);
  });

  it("two config files in one directory are ambiguous, and a file over 1 MiB is refused", async () => {
    const dir = mkdtempSync(join(tmpdir(), "kms-config-docs-"));
    mkdirSync(join(dir, "two"));
    writeFileSync(join(dir, "two", "kms-envelope.yaml"), "profiles: { a: { encrypt: [local://a] } }");
    writeFileSync(join(dir, "two", "kms-envelope.json"), '{"profiles": {"a": {"encrypt": ["local://a"]}}}');
    await expect(loadConfig({ cwd: join(dir, "two"), env: {} })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("more than one config file"),
    });
    writeFileSync(
      join(dir, "big.yaml"),
      `# ${"x".repeat(1024 * 1024)}\nprofiles: { a: { encrypt: [local://a] } }`,
    );
    await expect(loadConfig({ path: join(dir, "big.yaml"), env: {} })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("larger than 1048576 bytes"),
    });
    await expect(loadConfig({ path: join(dir, "missing.yaml"), env: {} })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message: expect.stringContaining("no config file at"),
    });
  });
});
