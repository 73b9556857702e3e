import { randomBytes } from "node:crypto";
import {
  createKeyring,
  createKeyUriRegistry,
  DEFAULT_LIMITS,
  decrypt,
  encrypt,
  rewrap,
} from "@kms-envelope/core";
import { decodeHeader } from "@kms-envelope/core/format";
import type { CreateTransitKeyOptions, PolicyRule } from "@kms-envelope/emulators/vault";
import { describe, expect, it } from "vitest";
import {
  createVaultTransitKek,
  hcvaultUriProvider,
  transitKeyVersion,
  type VaultTransitKekOptions,
  vaultTransitUriProvider,
} from "../src/index.js";
import { CONTEXT, entryOf, expectCode, unique, useVaultEmulator } from "./helpers.js";

const vault = useVaultEmulator();

const uri = (name: string, mount = "transit") => `vault-transit://${vault().hostPort}/${mount}/keys/${name}`;

/** A fresh key and a KEK on it with a token holding exactly `capabilities` (all transit verbs by default). */
function setup(
  options: { key?: CreateTransitKeyOptions; verbs?: string[]; kek?: Partial<VaultTransitKekOptions> } = {},
) {
  const name = unique("k");
  vault().createKey(name, options.key);
  const verbs = options.verbs ?? ["encrypt", "decrypt", "rewrap", "datakey/plaintext"];
  const policy = unique("p");
  vault().setPolicy(
    policy,
    verbs.map((verb): PolicyRule => ({ path: `transit/${verb}/${name}`, capabilities: ["update"] })),
  );
  const token = vault().createToken({ policies: [policy] }).token;
  const kek = createVaultTransitKek({
    key: uri(name),
    tls: false,
    token,
    keyType: options.key?.type,
    derived: options.key?.derived,
    maxRetries: 0,
    ...options.kek,
  });
  return { name, kek, token };
}

/** The envelope's first wrapped-key entry, bytes included (inspect() gives only their length). */
const firstEntry = (envelope: Uint8Array) => decodeHeader(envelope, DEFAULT_LIMITS).wrappedKeys[0]!;
const versionIn = (envelope: Uint8Array) => transitKeyVersion(firstEntry(envelope).wrapped);

describe("key ids and URIs", () => {
  it("records the canonical host:port/mount/keys/name, the same for vault-transit:// and hcvault://", async () => {
    const { name, kek, token } = setup();
    expect(kek.provider).toBe("vault-transit");
    expect(kek.keyId).toBe(`${vault().hostPort}/transit/keys/${name}`);
    const registry = createKeyUriRegistry([vaultTransitUriProvider, hcvaultUriProvider]);
    const settings = { token, tls: false, maxRetries: 0 };
    const viaAlias = await registry.open(`hcvault://${vault().hostPort}/transit/keys/${name}`, {
      hcvault: settings,
    });
    expect(viaAlias.keyId).toBe(kek.keyId);
    const envelope = await encrypt(randomBytes(10), {
      keyring: createKeyring({ primary: kek }),
      context: CONTEXT,
    });
    const opened = await decrypt(envelope, { keyring: createKeyring({ primary: viaAlias }) });
    expect(opened.plaintext.length).toBe(10);
    expect(vaultTransitUriProvider.uriFor?.(kek.keyId)).toBe(uri(name));
  });

  it("defaults the port to 8200, keeps mount paths with slashes, and puts the namespace in front", () => {
    const options = { token: "t", tls: true };
    expect(
      createVaultTransitKek({ ...options, key: "vault-transit://Vault.Example.com/transit/keys/k" }).keyId,
    ).toBe("vault.example.com:8200/transit/keys/k");
    expect(
      createVaultTransitKek({ ...options, key: "vault.example.com:8300/eu/west/transit/keys/k" }).keyId,
    ).toBe("vault.example.com:8300/eu/west/transit/keys/k");
    const byOption = createVaultTransitKek({
      ...options,
      key: "v.example.com/transit/keys/k",
      namespace: "team-a",
    });
    const byPath = createVaultTransitKek({ ...options, key: "v.example.com/team-a/transit/keys/k" });
    expect(byOption.keyId).toBe("v.example.com:8200/team-a/transit/keys/k");
    expect(byPath.keyId).toBe(byOption.keyId);
  });

  it("refuses bad URIs, unknown options, and plain http to anything but loopback", async () => {
    const bad = [
      "vault-transit://host/transit/k",
      "vault-transit://host/keys/k",
      "vault-transit://https://host/transit/keys/k",
      "vault-transit://host/transit/keys/bad name",
      "vault-transit://user@host/transit/keys/k",
      "vault-transit://host/transit/keys/k?derived=yes",
      "vault-transit://host/transit/keys/k?namespace=a",
      "vault-transit://host/transit/keys/k?derived=true&derived=false",
      "vault-transit://host/transit/keys/k?type=",
      "vault-transit://host/transit/keys/k?type=aes512",
    ];
    for (const key of bad) {
      await expectCode(
        Promise.resolve().then(() => createVaultTransitKek({ key, token: "t" })),
        "INVALID_ARGUMENT",
      );
    }
    await expectCode(
      Promise.resolve().then(() =>
        createVaultTransitKek({ key: "vault.example.com/transit/keys/k", token: "t", tls: false }),
      ),
      "INVALID_ARGUMENT",
    );
    const registry = createKeyUriRegistry([vaultTransitUriProvider]);
    await expectCode(
      registry.open(uri("k"), { "vault-transit": { token: "t", tsl: false } }),
      "INVALID_ARGUMENT",
    );
    await expectCode(
      registry.open(uri("k"), { "vault-transit": { token: "t", appRole: { secretId: "s" } } }),
      "INVALID_ARGUMENT",
    );
    await expectCode(createKeyUriRegistry().open("hcvault://host/transit/keys/k"), "PROVIDER_NOT_INSTALLED");
    for (const bad of [
      { appRole: { roleId: "r" } },
      { appRole: { roleId: "r", secretId: "s", secretIdFile: "f" } },
      { appRole: { roleId: "r", secretId: "s", role: "typo" } },
      { kubernetes: { jwtFile: "f" } },
      { token: "" },
    ]) {
      await expectCode(
        Promise.resolve().then(() =>
          createVaultTransitKek({ key: "v.example.com/transit/keys/k", ...(bad as object) }),
        ),
        "INVALID_ARGUMENT",
      );
    }
  });

  it("reads derived=true and type= from the URI query", async () => {
    const name = unique("q");
    vault().createKey(name, { derived: true });
    const registry = createKeyUriRegistry([vaultTransitUriProvider]);
    const kek = await registry.open(`${uri(name)}?derived=true`, {
      "vault-transit": { token: vault().rootToken, tls: false },
    });
    expect(kek.keyId).toBe(`${vault().hostPort}/transit/keys/${name}`);
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    await kek.unwrap(entryOf(kek, wrapped), CONTEXT);
  });
});

describe("context binding per key type", () => {
  it("AEAD keys bind the context as associated_data: another context is TAMPERED", async () => {
    const { kek } = setup({ key: { type: "chacha20-poly1305" } });
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    const error = await expectCode(kek.unwrap(entryOf(kek, wrapped), { tenant: "other" }), "TAMPERED");
    // The cause is Vault's own answer (a copy without request data): status and error texts.
    expect(error.cause).toMatchObject({
      name: "VaultResponseError",
      status: 400,
      errors: ["chacha20poly1305: message authentication failed"],
    });
  });

  it("derived keys bind it as the derivation context; an empty context still derives (labelled encoding)", async () => {
    const { kek } = setup({ key: { derived: true } });
    const wrapped = await kek.wrap(randomBytes(32), {});
    expect((await kek.unwrap(entryOf(kek, wrapped), {})).length).toBe(32);
    await expectCode(kek.unwrap(entryOf(kek, wrapped), CONTEXT), "TAMPERED");
  });

  it("a key configured with the wrong type or derivation fails with INVALID_ARGUMENT naming the fix", async () => {
    const derivedName = unique("d");
    vault().createKey(derivedName, { derived: true });
    const notDerived = createVaultTransitKek({ key: uri(derivedName), tls: false, token: vault().rootToken });
    const error = await expectCode(notDerived.wrap(randomBytes(32), CONTEXT), "INVALID_ARGUMENT");
    expect(error.message).toContain("derived: true");
    const rsaName = unique("r");
    vault().createKey(rsaName, { type: "rsa-2048" });
    const asAead = createVaultTransitKek({ key: uri(rsaName), tls: false, token: vault().rootToken });
    expect((await expectCode(asAead.wrap(randomBytes(32), CONTEXT), "INVALID_ARGUMENT")).message).toContain(
      "keyType",
    );
  });
});

describe("versions, rotation, rewrap and min_decryption_version", () => {
  it("records vault:vN:, old envelopes open after rotation, and rewrap moves them inside Vault", async () => {
    const { name, kek } = setup({ key: { derived: true } });
    const keyring = createKeyring({ primary: kek });
    const plaintext = randomBytes(100);
    const old = await encrypt(plaintext, { keyring, context: CONTEXT });
    expect(versionIn(old)).toBe(1);
    vault().rotateKey(name);
    const fresh = await encrypt(plaintext, { keyring, context: CONTEXT });
    expect(versionIn(fresh)).toBe(2);
    expect(Buffer.from((await decrypt(old, { keyring })).plaintext)).toEqual(plaintext);

    vault().calls.reset();
    const moved = await rewrap(old, { from: keyring, to: { add: [kek] } });
    expect(moved.reencrypted).toBe(1);
    expect(moved.unwrapped).toBe(false);
    expect(vault().calls.count("Rewrap")).toBe(1);
    expect(vault().calls.count("Decrypt")).toBe(0);
    expect(versionIn(moved.envelope)).toBe(2);

    vault().configureKey(name, { minDecryptionVersion: 2 });
    const refused = await expectCode(decrypt(old, { keyring }), "NO_USABLE_KEY");
    expect(refused.failures[0]?.error.code).toBe("KEY_DISABLED");
    expect(String(refused.failures[0]?.error.cause)).toContain("disallowed by policy (too old)");
    expect(Buffer.from((await decrypt(moved.envelope, { keyring })).plaintext)).toEqual(plaintext);
  });

  it("AEAD keys with associated_data cannot use Vault's rewrap: reencrypt declines and core re-wraps", async () => {
    const { name, kek } = setup();
    const keyring = createKeyring({ primary: kek });
    const old = await encrypt(randomBytes(5), { keyring, context: CONTEXT });
    vault().rotateKey(name);
    const entry = firstEntry(old);
    expect(await kek.reencrypt?.(entry, CONTEXT)).toBeUndefined();
    vault().calls.reset();
    const moved = await rewrap(old, { from: keyring, to: { add: [kek] } });
    expect([moved.reencrypted, moved.unwrapped]).toEqual([0, true]);
    expect(vault().calls.count("Rewrap")).toBe(0);
    expect(versionIn(moved.envelope)).toBe(2);
  });

  it("reencrypt leaves entries of other keys alone", async () => {
    const a = setup({ key: { derived: true } });
    const b = setup({ key: { derived: true } });
    const wrapped = await a.kek.wrap(randomBytes(32), CONTEXT);
    expect(await b.kek.reencrypt?.(entryOf(a.kek, wrapped), CONTEXT)).toBeUndefined();
  });

  it("a version newer than the key has is KEY_NOT_FOUND (the key was recreated)", async () => {
    const { name, kek } = setup();
    vault().rotateKey(name);
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    const recreated = setup();
    const moved = { ...entryOf(recreated.kek, wrapped), keyId: recreated.kek.keyId };
    await expectCode(recreated.kek.unwrap(moved, CONTEXT), "KEY_NOT_FOUND");
    expect(name).not.toBe(recreated.name);
  });
});

describe("least privilege", () => {
  it("an encrypt-only token encrypts and cannot decrypt; a decrypt-only token the reverse", async () => {
    const name = unique("lp");
    vault().createKey(name);
    vault().setPolicy(`w-${name}`, [{ path: `transit/encrypt/${name}`, capabilities: ["update"] }]);
    vault().setPolicy(`r-${name}`, [{ path: `transit/decrypt/${name}`, capabilities: ["update"] }]);
    const common = { key: uri(name), tls: false, maxRetries: 0 };
    const writer = createVaultTransitKek({
      ...common,
      token: vault().createToken({ policies: [`w-${name}`] }).token,
    });
    const reader = createVaultTransitKek({
      ...common,
      token: vault().createToken({ policies: [`r-${name}`] }).token,
    });
    const envelope = await encrypt(randomBytes(20), {
      keyring: createKeyring({ primary: writer }),
      context: CONTEXT,
    });
    const denied = await expectCode(
      decrypt(envelope, { keyring: createKeyring({ primary: writer }) }),
      "NO_USABLE_KEY",
    );
    expect(denied.failures[0]?.error.code).toBe("KEY_ACCESS_DENIED");
    expect((await decrypt(envelope, { keyring: createKeyring({ primary: reader }) })).plaintext.length).toBe(
      20,
    );
    await expectCode(reader.wrap(randomBytes(32), CONTEXT), "KEY_ACCESS_DENIED");
  });

  it("with derived keys the writer also needs datakey/plaintext, unless generateDataKey is false", async () => {
    const { kek } = setup({ key: { derived: true }, verbs: ["encrypt"] });
    await expectCode(
      encrypt(randomBytes(1), { keyring: createKeyring({ primary: kek }), context: CONTEXT }),
      "KEY_ACCESS_DENIED",
    );
    const local = setup({ key: { derived: true }, verbs: ["encrypt"], kek: { generateDataKey: false } });
    expect(local.kek.generateDataKey).toBeUndefined();
    await encrypt(randomBytes(1), { keyring: createKeyring({ primary: local.kek }), context: CONTEXT });
    expect(vault().calls.count("DataKey")).toBe(0);
  });
});
