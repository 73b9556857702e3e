import { hkdfSync, randomBytes } from "node:crypto";
import { request } from "node:https";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "../src/vault/index.js";
import { hkdfSha256 } from "../src/vault/transit-key.js";

let vault: VaultTransitEmulator;
beforeAll(async () => {
  vault = await startVaultTransitEmulator();
});
afterAll(() => vault.close());
beforeEach(() => {
  vault.faults.clear();
  vault.calls.reset();
});

interface Answer {
  status: number;
  body: { data?: Record<string, unknown>; auth?: Record<string, unknown>; errors?: string[] } & Record<
    string,
    unknown
  >;
  headers: Headers;
}

async function call(
  method: string,
  path: string,
  body?: Record<string, unknown>,
  options: { token?: string | undefined; namespace?: string } = {},
): Promise<Answer> {
  const headers: Record<string, string> = { "Content-Type": "application/json" };
  const token = "token" in options ? options.token : vault.rootToken;
  if (token !== undefined) headers["X-Vault-Token"] = token;
  if (options.namespace !== undefined) headers["X-Vault-Namespace"] = options.namespace;
  const response = await fetch(`${vault.address}/v1/${path}`, {
    method,
    headers,
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  const text = await response.text();
  return { status: response.status, body: text === "" ? {} : JSON.parse(text), headers: response.headers };
}

const b64 = (value: string | Buffer) => Buffer.from(value).toString("base64");
const unique = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

describe("transit keys, encrypt and decrypt", () => {
  it("round-trips under aes256-gcm96 with a vault:v1: prefix, in Vault's response envelope", async () => {
    const name = unique("aes");
    expect((await call("POST", `transit/keys/${name}`, { type: "aes256-gcm96" })).status).toBe(200);
    const encrypted = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("hello") });
    expect(encrypted.status).toBe(200);
    expect(encrypted.body.data?.key_version).toBe(1);
    expect(encrypted.body.mount_type).toBe("transit");
    expect(typeof encrypted.body.request_id).toBe("string");
    const ciphertext = encrypted.body.data?.ciphertext as string;
    // 12-byte nonce + 5 bytes + 16-byte tag.
    expect(Buffer.from(ciphertext.slice("vault:v1:".length), "base64").length).toBe(33);
    const decrypted = await call("POST", `transit/decrypt/${name}`, { ciphertext });
    expect(decrypted.body.data?.plaintext).toBe(b64("hello"));
  });

  it("binds associated_data on AEAD types and refuses it on RSA", async () => {
    for (const type of ["aes256-gcm96", "chacha20-poly1305"]) {
      const name = unique(type);
      vault.createKey(name, { type: type as "aes256-gcm96" });
      const ad = b64("tenant=acme");
      const { body } = await call("POST", `transit/encrypt/${name}`, {
        plaintext: b64("x"),
        associated_data: ad,
      });
      const ciphertext = body.data?.ciphertext as string;
      expect(
        (await call("POST", `transit/decrypt/${name}`, { ciphertext, associated_data: ad })).status,
      ).toBe(200);
      const wrong = await call("POST", `transit/decrypt/${name}`, {
        ciphertext,
        associated_data: b64("other"),
      });
      expect(wrong.status).toBe(400);
      expect(wrong.body.errors?.[0]).toMatch(/message authentication failed$/);
    }
    const rsa = unique("rsa");
    vault.createKey(rsa, { type: "rsa-2048" });
    const refused = await call("POST", `transit/encrypt/${rsa}`, {
      plaintext: b64("x"),
      associated_data: b64("a"),
    });
    expect(refused.status).toBe(400);
    expect(refused.body.errors).toEqual([
      "'[0].associated_data' provided for non-AEAD cipher suite rsa-2048",
    ]);
    const ok = await call("POST", `transit/encrypt/${rsa}`, { plaintext: b64("x") });
    const back = await call("POST", `transit/decrypt/${rsa}`, { ciphertext: ok.body.data?.ciphertext });
    expect(back.body.data?.plaintext).toBe(b64("x"));
  });

  it("derived keys need a context, and a different context does not decrypt", async () => {
    const name = unique("derived");
    vault.createKey(name, { derived: true });
    const missing = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") });
    expect(missing.status).toBe(400);
    expect(missing.body.errors?.[0]).toMatch(/^missing 'context' for key derivation/);
    const sealed = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x"), context: b64("a") });
    const ciphertext = sealed.body.data?.ciphertext;
    expect((await call("POST", `transit/decrypt/${name}`, { ciphertext, context: b64("a") })).status).toBe(
      200,
    );
    const other = await call("POST", `transit/decrypt/${name}`, { ciphertext, context: b64("b") });
    expect(other.body.errors).toEqual(["cipher: message authentication failed"]);
  });

  it("a non-derived key ignores a context, as keysutil does", async () => {
    const name = unique("plain");
    vault.createKey(name);
    const sealed = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x"), context: b64("a") });
    const back = await call("POST", `transit/decrypt/${name}`, { ciphertext: sealed.body.data?.ciphertext });
    expect(back.body.data?.plaintext).toBe(b64("x"));
  });

  it("names a missing key, a damaged ciphertext and a too-new version in 400 errors", async () => {
    const missing = await call("POST", "transit/decrypt/nope", { ciphertext: "vault:v1:AAAA" });
    expect([missing.status, missing.body.errors]).toEqual([400, ["encryption key not found"]]);
    const name = unique("bad");
    vault.createKey(name);
    const cases: [string, string][] = [
      ["nope", "invalid ciphertext: no prefix"],
      ["vault:v1", "invalid ciphertext: wrong number of fields"],
      ["vault:vX:AAAA", "invalid ciphertext: version number could not be decoded"],
      ["vault:v9:AAAA", "invalid ciphertext: version is too new"],
      ["vault:v1:!!!!", "invalid ciphertext: could not decode base64"],
      [`vault:v1:${b64(randomBytes(40))}`, "cipher: message authentication failed"],
    ];
    for (const [ciphertext, error] of cases) {
      const answer = await call("POST", `transit/decrypt/${name}`, { ciphertext });
      expect([answer.status, answer.body.errors]).toEqual([400, [error]]);
    }
  });
});

describe("versions, rewrap, datakey, config", () => {
  it("rotation: old ciphertexts decrypt, rewrap moves them to the latest version, min_decryption_version refuses", async () => {
    const name = unique("rot");
    vault.createKey(name, { derived: true });
    const context = b64("ctx");
    const v1 = (await call("POST", `transit/encrypt/${name}`, { plaintext: b64("old"), context })).body.data
      ?.ciphertext as string;
    const rotated = await call("POST", `transit/keys/${name}/rotate`);
    expect(rotated.body.data?.latest_version).toBe(2);
    expect(
      (await call("POST", `transit/decrypt/${name}`, { ciphertext: v1, context })).body.data?.plaintext,
    ).toBe(b64("old"));
    const rewrapped = await call("POST", `transit/rewrap/${name}`, { ciphertext: v1, context });
    expect(rewrapped.body.data?.key_version).toBe(2);
    expect(rewrapped.body.data?.ciphertext).toMatch(/^vault:v2:/);
    const config = await call("POST", `transit/keys/${name}/config`, { min_decryption_version: 2 });
    expect(config.body.data?.min_decryption_version).toBe(2);
    expect(Object.keys(config.body.data?.keys as object)).toEqual(["2"]);
    const refused = await call("POST", `transit/decrypt/${name}`, { ciphertext: v1, context });
    expect([refused.status, refused.body.errors]).toEqual([
      400,
      ["ciphertext or signature version is disallowed by policy (too old)"],
    ]);
    const fresh = rewrapped.body.data?.ciphertext;
    expect((await call("POST", `transit/decrypt/${name}`, { ciphertext: fresh, context })).status).toBe(200);
    const tooHigh = await call("POST", `transit/keys/${name}/config`, { min_decryption_version: 3 });
    expect(tooHigh.status).toBe(400);
  });

  it("rewrap takes no associated_data: a ciphertext sealed with some cannot be rewrapped", async () => {
    const name = unique("ad-rewrap");
    vault.createKey(name);
    const ad = b64("a");
    const sealed = await call("POST", `transit/encrypt/${name}`, {
      plaintext: b64("x"),
      associated_data: ad,
    });
    vault.rotateKey(name);
    const answer = await call("POST", `transit/rewrap/${name}`, {
      ciphertext: sealed.body.data?.ciphertext,
      associated_data: ad,
    });
    expect([answer.status, answer.body.errors]).toEqual([400, ["cipher: message authentication failed"]]);
  });

  it("datakey/plaintext returns both forms, datakey/wrapped only the ciphertext", async () => {
    const name = unique("dk");
    vault.createKey(name, { derived: true });
    const context = b64("c");
    const plain = await call("POST", `transit/datakey/plaintext/${name}`, { context });
    const key = Buffer.from(plain.body.data?.plaintext as string, "base64");
    expect(key.length).toBe(32);
    const opened = await call("POST", `transit/decrypt/${name}`, {
      ciphertext: plain.body.data?.ciphertext,
      context,
    });
    expect(opened.body.data?.plaintext).toBe(key.toString("base64"));
    const wrapped = await call("POST", `transit/datakey/wrapped/${name}`, { context, bits: 512 });
    expect(wrapped.body.data?.plaintext).toBeUndefined();
    expect(wrapped.body.data?.ciphertext).toMatch(/^vault:v1:/);
  });

  it("a key is deleted only once deletion_allowed is set", async () => {
    const name = unique("del");
    vault.createKey(name);
    const refused = await call("DELETE", `transit/keys/${name}`);
    expect([refused.status, refused.body.errors]).toEqual([
      400,
      [`error deleting policy ${name}: deletion is not allowed for this key`],
    ]);
    await call("POST", `transit/keys/${name}/config`, { deletion_allowed: true });
    expect((await call("DELETE", `transit/keys/${name}`)).status).toBe(204);
    const read = await call("GET", `transit/keys/${name}`);
    expect([read.status, read.body.errors]).toEqual([404, []]);
    const rotate = await call("POST", `transit/keys/${name}/rotate`);
    expect([rotate.status, rotate.body.errors]).toEqual([400, ["key not found"]]);
  });
});

describe("tokens, policies and namespaces", () => {
  it("an encrypt-only token cannot decrypt, and update alone cannot create a key through encrypt", async () => {
    const name = unique("acl");
    vault.createKey(name);
    vault.setPolicy(`writer-${name}`, [{ path: `transit/encrypt/${name}`, capabilities: ["update"] }]);
    vault.setPolicy("writer-any", [{ path: "transit/encrypt/*", capabilities: ["update"] }]);
    const writer = vault.createToken({ policies: [`writer-${name}`, "writer-any"] }).token;
    const sealed = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") }, { token: writer });
    expect(sealed.status).toBe(200);
    const denied = await call("POST", `transit/decrypt/${name}`, sealed.body.data, { token: writer });
    expect([denied.status, denied.body.errors]).toEqual([
      403,
      ["1 error occurred:\n\t* permission denied\n\n"],
    ]);
    const upsert = await call(
      "POST",
      `transit/encrypt/${unique("absent")}`,
      { plaintext: b64("x") },
      { token: writer },
    );
    expect(upsert.status).toBe(403);
    expect(
      (await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") }, { token: undefined })).status,
    ).toBe(403);
    expect(
      (await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") }, { token: "hvs.nope" })).status,
    ).toBe(403);
  });

  it("serves a namespace by header or by path prefix; a namespace token cannot reach the root", async () => {
    vault.createKey("shared", { namespace: "team-a" });
    vault.setPolicy("team-a-use", [{ path: "transit/+/shared", capabilities: ["update"] }]);
    const token = vault.createToken({ namespace: "team-a", policies: ["team-a-use"] }).token;
    const byHeader = await call(
      "POST",
      "transit/encrypt/shared",
      { plaintext: b64("x") },
      { token, namespace: "team-a" },
    );
    expect(byHeader.status).toBe(200);
    const byPath = await call("POST", "team-a/transit/decrypt/shared", byHeader.body.data, { token });
    expect(byPath.body.data?.plaintext).toBe(b64("x"));
    vault.createKey("shared");
    expect((await call("POST", "transit/encrypt/shared", { plaintext: b64("x") }, { token })).status).toBe(
      403,
    );
    // The root namespace's key of the same name is another key.
    const root = await call("POST", "transit/decrypt/shared", byHeader.body.data);
    expect(root.body.errors).toEqual(["cipher: message authentication failed"]);
  });

  it("AppRole and Kubernetes logins issue tokens with the role's policies; renew-self extends them", async () => {
    vault.setPolicy("reader", [{ path: "transit/decrypt/*", capabilities: ["update"] }]);
    const { roleId, secretId } = vault.addAppRole({ policies: ["reader"], ttlMs: 60_000 });
    const bad = await call(
      "POST",
      "auth/approle/login",
      { role_id: roleId, secret_id: "x" },
      { token: undefined },
    );
    expect([bad.status, bad.body.errors]).toEqual([400, ["invalid role or secret ID"]]);
    const login = await call(
      "POST",
      "auth/approle/login",
      { role_id: roleId, secret_id: secretId },
      { token: undefined },
    );
    expect(login.body.auth?.policies).toEqual(["default", "reader"]);
    expect(login.body.auth?.lease_duration).toBe(60);
    const token = login.body.auth?.client_token as string;
    const renewed = await call("POST", "auth/token/renew-self", {}, { token });
    expect(renewed.body.auth?.renewable).toBe(true);
    expect(
      (await call("GET", "auth/token/lookup-self", undefined, { token })).body.data?.ttl,
    ).toBeGreaterThan(50);

    vault.addKubernetesRole("app", "service-account-jwt", { policies: ["reader"] });
    const k8s = await call(
      "POST",
      "auth/kubernetes/login",
      { role: "app", jwt: "service-account-jwt" },
      { token: undefined },
    );
    expect(k8s.body.auth?.token_policies).toEqual(["default", "reader"]);
    const wrongJwt = await call(
      "POST",
      "auth/kubernetes/login",
      { role: "app", jwt: "forged" },
      { token: undefined },
    );
    expect(wrongJwt.status).toBe(403);
  });

  it("an expired token is refused like an unknown one", async () => {
    const token = vault.createToken({ policies: [], ttlMs: 1 }).token;
    await new Promise((done) => setTimeout(done, 5));
    expect((await call("GET", "auth/token/lookup-self", undefined, { token })).status).toBe(403);
  });
});

describe("sealed state and faults", () => {
  it("a sealed Vault answers 503 on every API path but health", async () => {
    vault.seal();
    try {
      const answer = await call("POST", "transit/encrypt/any", { plaintext: b64("x") });
      expect([answer.status, answer.body.errors]).toEqual([503, ["Vault is sealed"]]);
      expect((await call("GET", "sys/health")).status).toBe(503);
      expect((await call("GET", "sys/seal-status")).body.sealed).toBe(true);
    } finally {
      vault.unseal();
    }
    expect((await call("GET", "sys/health")).status).toBe(200);
  });

  it("throttle is a 429 with Retry-After, unavailable a 503, reset a dropped connection, latency a delay", async () => {
    const name = unique("faults");
    vault.createKey(name);
    vault.faults.inject({ kind: "throttle", operation: "Encrypt", delayMs: 2000 });
    const throttled = await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") });
    expect(throttled.status).toBe(429);
    expect(throttled.headers.get("retry-after")).toBe("2");
    expect(throttled.body.errors?.[0]).toMatch(/rate limit quota exceeded$/);
    vault.faults.inject({ kind: "unavailable" });
    expect((await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") })).status).toBe(503);
    vault.faults.inject({ kind: "reset" });
    await expect(call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") })).rejects.toThrow();
    vault.faults.inject({ kind: "latency", delayMs: 150 });
    const started = Date.now();
    expect((await call("POST", `transit/encrypt/${name}`, { plaintext: b64("x") })).status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    expect(vault.calls.count("Encrypt")).toBe(1);
  });
});

describe("TLS", () => {
  it("serves HTTPS with a generated certificate that its CA PEM verifies", async () => {
    const secure = await startVaultTransitEmulator({ tls: true });
    try {
      const status = await new Promise<number>((done, fail) => {
        const req = request(`${secure.address}/v1/sys/health`, { ca: secure.ca }, (res) => {
          res.resume();
          done(res.statusCode ?? 0);
        });
        req.on("error", fail);
        req.end();
      });
      expect(status).toBe(200);
      await expect(fetch(`${secure.address}/v1/sys/health`)).rejects.toThrow();
    } finally {
      await secure.close();
    }
  });
});

describe("key derivation", () => {
  it("is RFC 5869 HKDF-SHA256 with an empty salt, with no cap on the context length (Go's HKDF has none)", () => {
    // RFC 5869 test case 3: zero-length salt and info.
    const okm = hkdfSha256(Buffer.alloc(22, 0x0b), Buffer.alloc(0), 42);
    expect(okm.toString("hex")).toBe(
      "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8",
    );
    const secret = randomBytes(32);
    const info = randomBytes(100);
    expect(hkdfSha256(secret, info, 32)).toEqual(
      Buffer.from(hkdfSync("sha256", secret, Buffer.alloc(0), info, 32)),
    );
    expect(hkdfSha256(secret, randomBytes(8000), 32).length).toBe(32);
  });
});

describe("saved keys", () => {
  it("a snapshot restores every key (AEAD, derived, RSA; versions and config) in a new emulator", async () => {
    let changes = 0;
    const first = await startVaultTransitEmulator({ rootToken: "dev-root", onKeysChanged: () => changes++ });
    const sealed: Record<string, string> = {};
    try {
      first.createKey("aes", { namespace: "team-a", mount: "eu/transit" });
      first.createKey("derived", { derived: true });
      first.createKey("rsa", { type: "rsa-2048" });
      first.rotateKey("derived");
      first.configureKey("derived", { minDecryptionVersion: 2, deletionAllowed: true });
      expect(changes).toBe(5);
      const post = async (path: string, body: Record<string, unknown>, namespace?: string) => {
        const headers: Record<string, string> = { "X-Vault-Token": "dev-root" };
        if (namespace !== undefined) headers["X-Vault-Namespace"] = namespace;
        const answer = await fetch(`${first.address}/v1/${path}`, {
          method: "POST",
          headers,
          body: JSON.stringify(body),
        });
        return ((await answer.json()) as { data: { ciphertext: string } }).data.ciphertext;
      };
      sealed.aes = await post("eu/transit/encrypt/aes", { plaintext: b64("a") }, "team-a");
      sealed.derived = await post("transit/encrypt/derived", { plaintext: b64("d"), context: b64("c") });
      sealed.rsa = await post("transit/encrypt/rsa", { plaintext: b64("r") });
      expect(changes).toBe(8);
    } finally {
      await first.close();
    }
    const snapshot = JSON.parse(JSON.stringify(first.snapshotKeys()));
    const second = await startVaultTransitEmulator({ rootToken: "dev-root", keys: snapshot });
    try {
      const post = async (path: string, body: Record<string, unknown>) => {
        const answer = await fetch(`${second.address}/v1/${path}`, {
          method: "POST",
          headers: { "X-Vault-Token": "dev-root" },
          body: JSON.stringify(body),
        });
        return (await answer.json()) as { data?: { plaintext: string } };
      };
      expect((await post("team-a/eu/transit/decrypt/aes", { ciphertext: sealed.aes })).data?.plaintext).toBe(
        b64("a"),
      );
      const derived = await post("transit/decrypt/derived", {
        ciphertext: sealed.derived,
        context: b64("c"),
      });
      expect(derived.data?.plaintext).toBe(b64("d"));
      expect((await post("transit/decrypt/rsa", { ciphertext: sealed.rsa })).data?.plaintext).toBe(b64("r"));
      expect(second.describeKey("derived")).toMatchObject({
        latest_version: 2,
        min_decryption_version: 2,
        deletion_allowed: true,
      });
    } finally {
      await second.close();
    }
  });
});
