import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "@kms-envelope/emulators/vault";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { createVaultTransitKek, type VaultTransitKekOptions } from "../src/index.js";
import { CONTEXT, expectCode, unique } from "./helpers.js";

let vault: VaultTransitEmulator;
let dir: string;
beforeAll(async () => {
  vault = await startVaultTransitEmulator();
  dir = mkdtempSync(join(tmpdir(), "vault-transit-auth-"));
  vault.setPolicy("use-all", [{ path: "transit/+/*", capabilities: ["update"] }]);
});
afterAll(async () => {
  await vault.close();
  rmSync(dir, { recursive: true, force: true });
});
const saved = { ...process.env };
beforeEach(() => {
  vault.calls.reset();
  delete process.env.VAULT_TOKEN;
  delete process.env.VAULT_NAMESPACE;
  delete process.env.VAULT_CACERT;
});
afterEach(() => {
  for (const name of ["VAULT_TOKEN", "VAULT_NAMESPACE", "VAULT_CACERT"]) {
    if (saved[name] === undefined) delete process.env[name];
    else process.env[name] = saved[name];
  }
});

function kekFor(extra: Partial<VaultTransitKekOptions>, namespace?: string) {
  const name = unique("a");
  vault.createKey(name, { namespace });
  return createVaultTransitKek({
    key: `vault-transit://${vault.hostPort}/transit/keys/${name}`,
    tls: false,
    maxRetries: 0,
    ...extra,
  });
}

async function roundTrip(kek: ReturnType<typeof kekFor>) {
  const dek = randomBytes(32);
  const wrapped = await kek.wrap(new Uint8Array(dek), CONTEXT);
  const back = await kek.unwrap({ provider: kek.provider, ...wrapped }, CONTEXT);
  expect(Buffer.from(back).equals(dek)).toBe(true);
}

describe("tokens", () => {
  it("VAULT_TOKEN is used when no credential is passed; none at all is INVALID_ARGUMENT", async () => {
    process.env.VAULT_TOKEN = vault.createToken({ policies: ["use-all"] }).token;
    await roundTrip(kekFor({}));
    // Any credential passed in code wins over VAULT_TOKEN; an explicit token wins over a login.
    await expectCode(kekFor({ token: "hvs.unknown" }).wrap(randomBytes(32), CONTEXT), "KEY_ACCESS_DENIED");
    const { roleId } = vault.addAppRole({ policies: ["use-all"] });
    const both = kekFor({ token: process.env.VAULT_TOKEN, appRole: { roleId, secretId: "wrong" } });
    await roundTrip(both);
    expect(vault.calls.count("Login")).toBe(0);
    delete process.env.VAULT_TOKEN;
    await expectCode(
      Promise.resolve().then(() => kekFor({})),
      "INVALID_ARGUMENT",
    );
  });

  it("a token file is re-read when it changes (Vault Agent rotates it); a missing one is KEY_ACCESS_DENIED", async () => {
    const file = join(dir, unique("token"));
    writeFileSync(file, `${vault.createToken({ policies: ["use-all"] }).token}\n`);
    const kek = kekFor({ tokenFile: file });
    await roundTrip(kek);
    writeFileSync(file, "hvs.revoked");
    utimesSync(file, new Date(), new Date(Date.now() + 5_000));
    await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KEY_ACCESS_DENIED");
    writeFileSync(file, vault.createToken({ policies: ["use-all"] }).token);
    utimesSync(file, new Date(), new Date(Date.now() + 10_000));
    await roundTrip(kek);
    const missing = kekFor({ tokenFile: join(dir, "absent") });
    const error = await expectCode(missing.wrap(randomBytes(32), CONTEXT), "KEY_ACCESS_DENIED");
    expect(error.message).toContain("token file");
  });

  it("renewToken: one lookup-self learns the TTL, then renew-self keeps the token alive", async () => {
    const token = vault.createToken({ policies: ["use-all"], ttlMs: 6_600 });
    const kek = kekFor({ token: token.token, renewToken: true });
    await roundTrip(kek);
    expect(vault.calls.count("LookupSelf")).toBe(1);
    expect(token.renewals).toBe(0);
    // A 6 s lease is renewed once less than 5 s are left.
    await new Promise((done) => setTimeout(done, 1_200));
    await roundTrip(kek);
    expect(token.renewals).toBe(1);
  });
});

describe("logins", () => {
  it("AppRole (secret_id or secret_id file) logs in once and shares the token among concurrent calls", async () => {
    const { roleId, secretId } = vault.addAppRole({ policies: ["use-all"] });
    const kek = kekFor({ appRole: { roleId, secretId } });
    await Promise.all([roundTrip(kek), roundTrip(kek), roundTrip(kek)]);
    expect(vault.calls.count("Login")).toBe(1);
    const file = join(dir, unique("secret-id"));
    writeFileSync(file, secretId);
    await roundTrip(kekFor({ appRole: { roleId, secretIdFile: file } }));
    const refused = await expectCode(
      kekFor({ appRole: { roleId, secretId: "wrong" } }).wrap(randomBytes(32), CONTEXT),
      "KEY_ACCESS_DENIED",
    );
    expect(refused.cause).toMatchObject({ status: 400, errors: ["invalid role or secret ID"] });
    expect(`${refused.message} ${JSON.stringify(refused.cause)}`).not.toContain(secretId);
  });

  it("Kubernetes logs in with the service-account JWT file at a custom mount", async () => {
    const jwt = `eyJ.${randomBytes(12).toString("hex")}.sig`;
    vault.addKubernetesRole("orders", jwt, { policies: ["use-all"], mount: "k8s-prod" });
    const file = join(dir, unique("jwt"));
    writeFileSync(file, jwt);
    await roundTrip(kekFor({ kubernetes: { role: "orders", jwtFile: file, mount: "k8s-prod" } }));
    const wrong = join(dir, unique("jwt"));
    writeFileSync(wrong, "forged");
    await expectCode(
      kekFor({ kubernetes: { role: "orders", jwtFile: wrong, mount: "k8s-prod" } }).wrap(
        randomBytes(32),
        CONTEXT,
      ),
      "KEY_ACCESS_DENIED",
    );
  });

  it("a login token is renewed before it runs out, and replaced by a new login once it cannot be", async () => {
    const { roleId, secretId } = vault.addAppRole({ policies: ["use-all"], ttlMs: 6_600 });
    const kek = kekFor({ appRole: { roleId, secretId } });
    await roundTrip(kek);
    expect([vault.calls.count("Login"), vault.calls.count("RenewSelf")]).toEqual([1, 0]);
    await new Promise((done) => setTimeout(done, 1_200));
    await roundTrip(kek);
    expect([vault.calls.count("Login"), vault.calls.count("RenewSelf")]).toEqual([1, 1]);
    // A renewal that fails (revoked, past its max TTL, or, here, refused) is followed by a fresh login.
    await new Promise((done) => setTimeout(done, 1_200));
    vault.faults.inject({ kind: "unavailable", operation: "RenewSelf" });
    await roundTrip(kek);
    expect([vault.calls.count("Login"), vault.calls.count("RenewSelf")]).toEqual([2, 1]);
  });

  it("logs in and encrypts inside a namespace (option or VAULT_NAMESPACE); the key id names the namespace", async () => {
    vault.setPolicy("ns-use", [{ path: "transit/+/*", capabilities: ["update"] }]);
    const { roleId, secretId } = vault.addAppRole({ namespace: "team-a", policies: ["ns-use"] });
    const kek = kekFor({ appRole: { roleId, secretId }, namespace: "team-a" }, "team-a");
    expect(kek.keyId).toMatch(new RegExp(`^${vault.hostPort}/team-a/transit/keys/`));
    await roundTrip(kek);
    process.env.VAULT_NAMESPACE = "team-a";
    await roundTrip(kekFor({ appRole: { roleId, secretId } }, "team-a"));
    // The same role does not exist in the root namespace.
    delete process.env.VAULT_NAMESPACE;
    await expectCode(
      kekFor({ appRole: { roleId, secretId } }).wrap(randomBytes(32), CONTEXT),
      "KEY_ACCESS_DENIED",
    );
  });
});

describe("TLS", () => {
  let secure: VaultTransitEmulator;
  beforeAll(async () => {
    secure = await startVaultTransitEmulator({ tls: true });
  });
  afterAll(() => secure.close());

  const secureKek = (extra: Partial<VaultTransitKekOptions>) => {
    const name = unique("tls");
    secure.createKey(name);
    return createVaultTransitKek({
      key: `vault-transit://${secure.hostPort}/transit/keys/${name}`,
      token: secure.rootToken,
      maxRetries: 0,
      ...extra,
    });
  };

  it("trusts Vault's certificate through caFile or VAULT_CACERT", async () => {
    const file = join(dir, "vault-ca.pem");
    writeFileSync(file, secure.ca!);
    await roundTrip(secureKek({ caFile: file }));
    process.env.VAULT_CACERT = file;
    await roundTrip(secureKek({}));
  });

  it("an untrusted certificate is KMS_UNAVAILABLE and not retryable; a missing CA file is INVALID_ARGUMENT", async () => {
    const error = await expectCode(secureKek({}).wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
    expect(error.retryable).toBe(false);
    expect(error.message).toContain("caFile");
    await expectCode(
      Promise.resolve().then(() => secureKek({ caFile: join(dir, "absent.pem") })),
      "INVALID_ARGUMENT",
    );
  });
});
