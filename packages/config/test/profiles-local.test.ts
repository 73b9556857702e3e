import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { localKeyUriProvider, openKeystore } from "@kms-envelope/local";
import { describe, expect, it } from "vitest";
import { keyringFromConfig, keyringFromKeys, loadConfig, parseConfig, selectProfile } from "../src/index.js";

const registry = createKeyUriRegistry([localKeyUriProvider]);

function project(yaml: string, name = "kms-envelope.yaml") {
  const dir = mkdtempSync(join(tmpdir(), "kms-config-"));
  writeFileSync(join(dir, name), yaml);
  const keystore = openKeystore({ path: join(dir, "keys.json") });
  for (const key of ["old", "new", "dr"]) keystore.create(key);
  return dir;
}

const MIGRATION = `
default: b
profiles:
  a:
    encrypt: [local://old]
    providers: { local: { keystore: keys.json } }
  b:
    encrypt: [local://new, local://dr]
    decrypt: [local://old]
    context: { app: billing }
    requireContext: [app, { env: prod }]
    providers:
      local:
        keystore: keys.json
rules:
  - path: "secrets/a/**"
    profile: a
  - pathRegex: "\\\\.b\\\\.json$"
    profile: b
`;

describe("loading and selecting", () => {
  it("finds kms-envelope.yaml upward from the working directory and resolves paths against it", async () => {
    const dir = project(MIGRATION);
    const deep = join(dir, "x", "y");
    mkdirSync(deep, { recursive: true });
    const config = await loadConfig({ cwd: deep, env: {} });
    expect(config?.file).toBe(join(dir, "kms-envelope.yaml"));
    expect(config?.foundBy).toBe("search");
    expect(config?.profiles.b?.providers.local?.keystore).toBe(join(dir, "keys.json"));
  });

  it("KMS_ENVELOPE_CONFIG beats the search, an explicit path beats both", async () => {
    const dir = project(MIGRATION);
    const other = project("profiles: { only: { encrypt: [local://new] } }");
    const byEnv = await loadConfig({
      cwd: dir,
      env: { KMS_ENVELOPE_CONFIG: join(other, "kms-envelope.yaml") },
    });
    expect(byEnv?.foundBy).toBe("env");
    expect(byEnv?.defaultProfile).toBe("only");
    const byPath = await loadConfig({
      cwd: other,
      path: join(dir, "kms-envelope.yaml"),
      env: { KMS_ENVELOPE_CONFIG: join(other, "kms-envelope.yaml") },
    });
    expect(byPath?.foundBy).toBe("argument");
    expect(byPath?.file).toBe(join(dir, "kms-envelope.yaml"));
  });

  it("falls back to the user config directory, and to nothing", async () => {
    const home = mkdtempSync(join(tmpdir(), "kms-home-"));
    const cwd = mkdtempSync(join(tmpdir(), "kms-cwd-"));
    expect(await loadConfig({ cwd, env: { XDG_CONFIG_HOME: home } })).toBeUndefined();
    mkdirSync(join(home, "kms-envelope"));
    writeFileSync(join(home, "kms-envelope", "config.json"), '{"profiles":{"p":{"encrypt":["local://k"]}}}');
    const config = await loadConfig({ cwd, env: { XDG_CONFIG_HOME: home } });
    expect(config?.foundBy).toBe("user");
    expect(config?.profiles.p?.encrypt).toEqual(["local://k"]);
  });

  it("picks by argument > KMS_ENVELOPE_PROFILE > path rule > default", () => {
    const config = parseConfig(MIGRATION, { file: "/p/kms-envelope.yaml" });
    const env = { KMS_ENVELOPE_PROFILE: "b" };
    expect(selectProfile(config, { profile: "a", env }).chosenBy).toBe("argument");
    expect(selectProfile(config, { env, filePath: "/p/secrets/a/x" })).toMatchObject({
      name: "b",
      chosenBy: "env",
    });
    expect(selectProfile(config, { env: {}, filePath: "/p/secrets/a/deep/db.json" })).toMatchObject({
      name: "a",
      chosenBy: "rule",
      rule: { index: 0, pattern: "secrets/a/**", kind: "glob" },
    });
    expect(selectProfile(config, { env: {}, cwd: "/p/secrets", filePath: "x.b.json" }).rule?.index).toBe(1);
    // Outside the config file's directory no rule applies.
    expect(selectProfile(config, { env: {}, filePath: "/elsewhere/secrets/a/x" })).toMatchObject({
      name: "b",
      chosenBy: "default",
    });
  });

  it("an unknown profile name is INVALID_ARGUMENT with the nearest name", () => {
    const config = parseConfig(MIGRATION, { file: "/p/kms-envelope.yaml" });
    expect(() => selectProfile(config, { profile: "bb", env: {} })).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining('did you mean "b"'),
      }),
    );
  });
});

describe("keyrings", () => {
  it("encrypt keys wrap, decrypt keys only unwrap, context defaults and required context apply", async () => {
    const dir = project(MIGRATION);
    const config = (await loadConfig({ cwd: dir, env: {} }))!;
    const a = await keyringFromConfig({ config, registry, profile: "a", env: {} });
    const old = await encrypt(new TextEncoder().encode("old data"), {
      keyring: a.keyring,
      context: { app: "billing", env: "prod" },
    });

    const b = await keyringFromConfig({ config, registry, env: {} });
    expect(b.description).toMatchObject({ profile: "b", chosenBy: "default", decrypt: ["local://old"] });
    const fresh = await encrypt(new TextEncoder().encode("new data"), {
      keyring: b.keyring,
      context: b.contextFor({ env: "prod" }),
    });
    expect(inspect(fresh).context).toEqual({ app: "billing", env: "prod" });
    expect(inspect(fresh).wrappedKeys.map((entry) => entry.keyId)).toEqual(["new", "dr"]);
    b.checkContext(inspect(old).context);
    const { plaintext } = await decrypt(old, { keyring: b.keyring });
    expect(new TextDecoder().decode(plaintext)).toBe("old data");
    expect(() => b.checkContext({ app: "billing", env: "dev" })).toThrow(
      expect.objectContaining({
        code: "CONTEXT_MISMATCH",
        message: "required context: different value: env",
      }),
    );
    expect(() => b.checkContext({ env: "prod" })).toThrow(
      expect.objectContaining({ code: "CONTEXT_MISMATCH", message: "required context: missing: app" }),
    );
  });

  it("KMS_ENVELOPE_KEYS marks decrypt-only keys with decrypt:", async () => {
    const dir = project("profiles: { p: { encrypt: [local://old] } }");
    const providerOptions = { local: { keystore: join(dir, "keys.json") } };
    const before = await keyringFromKeys({
      env: { KMS_ENVELOPE_KEYS: "local://old" },
      registry,
      providerOptions,
    });
    const old = await encrypt(new Uint8Array([1, 2, 3]), { keyring: before.keyring });
    const after = await keyringFromKeys({
      env: { KMS_ENVELOPE_KEYS: "local://new, decrypt:local://old" },
      registry,
      providerOptions,
    });
    expect(after.keyring.wrapping.map((kek) => kek.keyId)).toEqual(["new"]);
    expect(after.keyring.allowed.map((kek) => kek.keyId)).toEqual(["new", "old"]);
    expect([...(await decrypt(old, { keyring: after.keyring })).plaintext]).toEqual([1, 2, 3]);
    const fresh = await encrypt(new Uint8Array([4]), { keyring: after.keyring });
    expect(inspect(fresh).wrappedKeys.map((entry) => entry.keyId)).toEqual(["new"]);
  });
});
