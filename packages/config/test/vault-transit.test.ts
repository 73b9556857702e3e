import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "@kms-envelope/emulators/vault";
import {
  createVaultTransitKek,
  hcvaultUriProvider,
  type TransitKeyType,
  vaultTransitUriProvider,
} from "@kms-envelope/vault-transit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  configJsonSchema,
  discoveryAccepts,
  keyringFromConfig,
  loadConfig,
  parseConfig,
} from "../src/index.js";

type Props<T> = { properties: T };
type SchemaWithVault = Props<{
  profiles: {
    additionalProperties: Props<{
      providers: Props<Record<string, Props<{ keyType: { enum: string[] } }>>>;
    }>;
  };
}>;

const registry = createKeyUriRegistry([vaultTransitUriProvider, hcvaultUriProvider]);
const plaintext = new Uint8Array([7, 8, 9]);

describe("vault-transit settings against the Vault emulator", () => {
  let vault: VaultTransitEmulator;
  let dir: string;
  beforeAll(async () => {
    vault = await startVaultTransitEmulator({ tls: true });
    dir = mkdtempSync(join(tmpdir(), "kms-config-vault-"));
    writeFileSync(join(dir, "vault-ca.pem"), vault.ca!);
    writeFileSync(join(dir, "vault-token"), `${vault.rootToken}\n`, { mode: 0o600 });
  });
  afterAll(() => vault.close());

  const load = async (yaml: string) => {
    writeFileSync(join(dir, "kms-envelope.yaml"), yaml);
    const config = await loadConfig({ path: join(dir, "kms-envelope.yaml"), env: {} });
    if (config === undefined) throw new Error("the config file was not found");
    return config;
  };

  it("a profile with a vault-transit:// key opens with tokenFile and caFile (relative paths) and round-trips", async () => {
    vault.createKey("orders", { derived: true });
    const config = await load(
      [
        "profiles:",
        "  vault:",
        `    encrypt: ["vault-transit://${vault.hostPort}/transit/keys/orders?derived=true"]`,
        "    context: { app: orders }",
        "    providers:",
        "      vault-transit: { tokenFile: vault-token, caFile: vault-ca.pem }",
      ].join("\n"),
    );
    expect(config.profiles.vault!.providers["vault-transit"]).toEqual({
      tokenFile: join(dir, "vault-token"),
      caFile: join(dir, "vault-ca.pem"),
    });
    const configured = await keyringFromConfig({ config, registry, env: {} });
    const encrypts = vault.calls.count("DataKey") + vault.calls.count("Encrypt");
    const envelope = await encrypt(plaintext, {
      keyring: configured.keyring,
      context: configured.contextFor(),
    });
    expect(vault.calls.count("DataKey") + vault.calls.count("Encrypt")).toBe(encrypts + 1);
    expect(inspect(envelope).wrappedKeys.map((entry) => [entry.provider, entry.keyId])).toEqual([
      ["vault-transit", `${vault.hostPort}/transit/keys/orders`],
    ]);
    const opened = await decrypt(envelope, {
      keyring: configured.keyring,
      expectedContext: { app: "orders" },
    });
    expect([...opened.plaintext]).toEqual([...plaintext]);
    await expect(
      decrypt(envelope, { keyring: configured.keyring, expectedContext: { app: "billing" } }),
    ).rejects.toMatchObject({ code: "CONTEXT_MISMATCH" });
    await configured.keyring.primary?.close?.();
  });

  it("hcvault:// keys take their own settings: an AppRole login with secretIdFile, in a namespace", async () => {
    vault.createKey("billing", { namespace: "team-a" });
    vault.setPolicy("billing", [
      { path: "transit/encrypt/billing", capabilities: ["update"] },
      { path: "transit/decrypt/billing", capabilities: ["update"] },
    ]);
    const role = vault.addAppRole({ namespace: "team-a", policies: ["billing"] });
    writeFileSync(join(dir, "secret-id"), role.secretId, { mode: 0o600 });
    const config = await load(
      [
        "profiles:",
        "  vault:",
        `    encrypt: ["hcvault://${vault.hostPort}/transit/keys/billing"]`,
        "    providers:",
        "      hcvault:",
        "        caFile: vault-ca.pem",
        "        namespace: team-a",
        `        appRole: { roleId: "${role.roleId}", secretIdFile: secret-id }`,
      ].join("\n"),
    );
    expect(config.profiles.vault!.providers.hcvault!.appRole!.secretIdFile).toBe(join(dir, "secret-id"));
    const logins = vault.calls.count("Login");
    const configured = await keyringFromConfig({ config, registry, env: {} });
    const envelope = await encrypt(plaintext, { keyring: configured.keyring });
    expect(inspect(envelope).wrappedKeys[0]!.keyId).toBe(`${vault.hostPort}/team-a/transit/keys/billing`);
    expect([...(await decrypt(envelope, { keyring: configured.keyring })).plaintext]).toEqual([...plaintext]);
    expect(vault.calls.count("Login")).toBe(logins + 1);
    await configured.keyring.primary?.close?.();
  });

  it("discovery opens a transit key on a listed server and mount (namespace kept), and no other", async () => {
    vault.createKey("payroll", { namespace: "team-a" });
    vault.createKey("listed", { namespace: "team-a" });
    const settings = `providers: { vault-transit: { tokenFile: vault-token, caFile: vault-ca.pem, namespace: team-a } }`;
    const writer = await keyringFromConfig({
      config: await load(
        `profiles: { w: { encrypt: ["vault-transit://${vault.hostPort}/transit/keys/payroll"], ${settings} } }`,
      ),
      registry,
      env: {},
    });
    const envelope = await encrypt(plaintext, { keyring: writer.keyring });
    const reader = async (filter: string) =>
      keyringFromConfig({
        config: await load(
          `profiles: { r: { encrypt: ["vault-transit://${vault.hostPort}/transit/keys/listed"], discovery: { vault-transit: ${filter} }, ${settings} } }`,
        ),
        registry,
        env: {},
      });
    const open = await reader(`{ servers: ["${vault.hostPort}"], mounts: [team-a/transit] }`);
    expect([...(await decrypt(envelope, { keyring: open.keyring })).plaintext]).toEqual([...plaintext]);
    const closed = await reader(`{ servers: ["${vault.hostPort}"], mounts: [transit] }`);
    const decrypts = vault.calls.count("Decrypt");
    await expect(decrypt(envelope, { keyring: closed.keyring })).rejects.toMatchObject({
      code: "NO_USABLE_KEY",
    });
    expect(vault.calls.count("Decrypt")).toBe(decrypts); // never asked Vault about a key outside the filter
    // A program that registers only hcvault:// opens discovered keys through it, with its settings.
    const hcvaultOnly = await keyringFromConfig({
      config: await load(
        `profiles: { r: { encrypt: ["hcvault://${vault.hostPort}/transit/keys/listed"], discovery: { vault-transit: { servers: ["${vault.hostPort}"] } }, ${settings.replace("vault-transit:", "hcvault:")} } }`,
      ),
      registry: createKeyUriRegistry([hcvaultUriProvider]),
      env: {},
    });
    expect([...(await decrypt(envelope, { keyring: hcvaultOnly.keyring })).plaintext]).toEqual([
      ...plaintext,
    ]);
    await Promise.all(
      [writer, open, closed, hcvaultOnly].map((configured) => configured.keyring.primary?.close?.()),
    );
  });
});

describe("vault-transit settings a config file may not carry", () => {
  const parse = (settings: string) =>
    parseConfig(
      [
        "profiles:",
        "  p:",
        "    encrypt: [vault-transit://vault.example.com/transit/keys/k]",
        "    providers:",
        `      vault-transit: ${settings}`,
      ].join("\n"),
      { file: "/app/kms-envelope.yaml" },
    );

  it("an inline token is refused, pointing at tokenFile (the message never echoes the value)", () => {
    expect(() => parse("{ token: hvs.secret }")).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message:
          '/app/kms-envelope.yaml:5:24: "token" is not accepted in "profiles.p.providers.vault-transit": ' +
          "a token does not belong in a config file: use tokenFile, appRole or kubernetes, or set VAULT_TOKEN",
      }),
    );
  });

  it("an inline AppRole secret_id is refused, and the AppRole needs its secretIdFile", () => {
    expect(() => parse("{ appRole: { roleId: r, secretId: s } }")).toThrow(
      expect.objectContaining({
        message: expect.stringContaining(
          '"secretId" is not accepted in "profiles.p.providers.vault-transit.appRole": a secret does not belong',
        ),
      }),
    );
    expect(() => parse("{ appRole: { roleId: r } }")).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: expect.stringContaining('"profiles.p.providers.vault-transit.appRole" needs "secretIdFile"'),
      }),
    );
  });

  it("every key type the file accepts is one the provider opens (the list is Vault's, kept in both places)", () => {
    const keyTypes = (configJsonSchema() as unknown as SchemaWithVault).properties.profiles
      .additionalProperties.properties.providers.properties["vault-transit"]!.properties.keyType.enum;
    expect(keyTypes.length).toBe(6);
    for (const keyType of keyTypes) {
      const kek = createVaultTransitKek({
        key: "vault-transit://127.0.0.1:8200/transit/keys/k",
        keyType: keyType as TransitKeyType,
        tls: false,
        token: "unused",
      });
      expect(kek.provider).toBe("vault-transit");
    }
  });

  it("key types and retry counts are checked like the provider checks them", () => {
    expect(() => parse("{ keyType: aes256-gcm }")).toThrow(
      expect.objectContaining({ message: expect.stringContaining('(did you mean "aes256-gcm96"?)') }),
    );
    expect(() => parse("{ maxRetries: 11 }")).toThrow(
      expect.objectContaining({ message: expect.stringContaining("must be between 0 and 10") }),
    );
  });
});

describe("vault-transit discovery filters", () => {
  const filters = { "vault-transit": { servers: ["Vault.example.com"], mounts: ["/team-a/transit/"] } };
  const accepts = (keyId: string) => discoveryAccepts(filters, { provider: "vault-transit", keyId });

  it("match the server (port 8200 when absent, any case) and the full mount path exactly", () => {
    expect(accepts("vault.example.com:8200/team-a/transit/keys/k")).toBe(true);
    expect(accepts("vault.example.com:8201/team-a/transit/keys/k")).toBe(false);
    expect(accepts("vault.example.com:8200/transit/keys/k")).toBe(false);
    expect(accepts("vault.example.com:8200/team-a/transit/eu/keys/k")).toBe(false);
    expect(accepts("vault.example.com.evil.com:8200/team-a/transit/keys/k")).toBe(false);
    expect(
      discoveryAccepts(
        { "vault-transit": { servers: ["127.0.0.1:7704"] } },
        {
          provider: "vault-transit",
          keyId: "127.0.0.1:7704/any/mount/keys/k",
        },
      ),
    ).toBe(true);
  });
});
