import { randomBytes } from "node:crypto";
import type { KeyEncryptionKey } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { createVaultTransitKek, type VaultTransitKekOptions } from "../src/index.js";
import { CONTEXT, entryOf, expectCode, unique, useVaultEmulator } from "./helpers.js";

const vault = useVaultEmulator();

function kekFor(name: string, extra: Partial<VaultTransitKekOptions> = {}): KeyEncryptionKey {
  return createVaultTransitKek({
    key: `vault-transit://${vault().hostPort}/transit/keys/${name}`,
    tls: false,
    token: vault().rootToken,
    maxRetries: 0,
    ...extra,
  });
}

function keyed(extra: Partial<VaultTransitKekOptions> = {}) {
  const name = unique("e");
  vault().createKey(name);
  return kekFor(name, extra);
}

describe("the error table, one code per Vault answer", () => {
  it("403 permission denied → KEY_ACCESS_DENIED, with Vault's text as cause and no token in sight", async () => {
    const name = unique("denied");
    vault().createKey(name);
    const token = vault().createToken({ policies: [] }).token;
    const error = await expectCode(
      kekFor(name, { token }).wrap(randomBytes(32), CONTEXT),
      "KEY_ACCESS_DENIED",
    );
    expect(error.cause).toMatchObject({
      status: 403,
      errors: ["1 error occurred:\n\t* permission denied\n\n"],
    });
    const text = `${error.message} ${String(error.cause)} ${JSON.stringify(error.cause)} ${error.stack}`;
    expect(text).not.toContain(token);
    expect(text).not.toContain(vault().rootToken);
  });

  it("an unknown key → KEY_NOT_FOUND (Vault's 400 'encryption key not found')", async () => {
    const kek = kekFor(unique("absent"));
    const wrapped = await keyed().wrap(randomBytes(32), CONTEXT);
    const error = await expectCode(
      kek.unwrap({ ...entryOf(kek, wrapped), keyId: kek.keyId }, CONTEXT),
      "KEY_NOT_FOUND",
    );
    expect(error.cause).toMatchObject({ status: 400, errors: ["encryption key not found"] });
  });

  it("an unknown mount → KEY_NOT_FOUND (404); encrypting under a missing key without `create` → KEY_ACCESS_DENIED", async () => {
    const name = unique("m");
    const wrongMount = createVaultTransitKek({
      key: `vault-transit://${vault().hostPort}/no-such-mount/keys/${name}`,
      tls: false,
      token: vault().rootToken,
    });
    await expectCode(wrongMount.wrap(randomBytes(32), CONTEXT), "KEY_NOT_FOUND");
    vault().setPolicy("encrypt-any", [{ path: "transit/encrypt/*", capabilities: ["update"] }]);
    const writer = kekFor(unique("never-created"), {
      token: vault().createToken({ policies: ["encrypt-any"] }).token,
    });
    await expectCode(writer.wrap(randomBytes(32), CONTEXT), "KEY_ACCESS_DENIED");
  });

  it("429 → KMS_THROTTLED (retryable); with retries the Retry-After is honoured and the call succeeds", async () => {
    const kek = keyed();
    vault().faults.inject({ kind: "throttle", operation: "Encrypt" });
    const error = await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_THROTTLED");
    expect(error.retryable).toBe(true);
    // The emulator's default throttle asks for Retry-After: 1 (whole seconds), carried for core's retries.
    expect(error.retryAfterMs).toBe(1000);
    const patient = keyed({ maxRetries: 2 });
    vault().faults.inject({ kind: "throttle", operation: "Encrypt", delayMs: 0 }, 2);
    await patient.wrap(randomBytes(32), CONTEXT);
    expect(vault().faults.pending).toBe(0);
  });

  it("5xx → KMS_UNAVAILABLE; a sealed Vault → KMS_UNAVAILABLE saying so", async () => {
    const kek = keyed();
    vault().faults.inject({ kind: "unavailable", operation: "Encrypt" });
    await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
    const patient = keyed({ maxRetries: 3 });
    vault().seal();
    try {
      const sealed = await expectCode(patient.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
      expect(sealed.message).toContain("sealed");
      expect(sealed.cause).toMatchObject({ status: 503, errors: ["Vault is sealed"] });
    } finally {
      vault().unseal();
    }
  });

  it("a dropped connection → KMS_UNAVAILABLE; a deadline → KMS_UNAVAILABLE; an abort mid-call → ABORTED", async () => {
    const kek = keyed();
    vault().faults.inject({ kind: "reset", operation: "Encrypt" });
    const dropped = await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
    expect(dropped.message).toMatch(/failed: (ECONNRESET|EPIPE)$/);
    const hurried = keyed({ deadlineMs: 50 });
    vault().faults.inject({ kind: "latency", operation: "Encrypt", delayMs: 1000 });
    await expectCode(hurried.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
    vault().faults.inject({ kind: "latency", operation: "Encrypt", delayMs: 1000 });
    const started = Date.now();
    await expectCode(kek.wrap(randomBytes(32), CONTEXT, { signal: AbortSignal.timeout(50) }), "ABORTED");
    expect(Date.now() - started).toBeLessThan(900);
  });

  it("a damaged ciphertext → TAMPERED; a malformed one → MALFORMED without a call; another key's entry → KEY_ID_MISMATCH", async () => {
    const kek = keyed();
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    const text = Buffer.from(wrapped.wrapped).toString("latin1");
    const body = Buffer.from(text.slice("vault:v1:".length), "base64");
    body[20]! ^= 1;
    const damaged = new Uint8Array(Buffer.from(`vault:v1:${body.toString("base64")}`, "latin1"));
    await expectCode(kek.unwrap({ ...entryOf(kek, wrapped), wrapped: damaged }, CONTEXT), "TAMPERED");
    vault().calls.reset();
    const body80 = "A".repeat(80);
    for (const bad of [
      "vault:v1:",
      "vault:v1:AAAA",
      `vault:v0:${body80}`,
      `vault:vX:${body80}`,
      `v1:${body80}`,
      `vault:v1:${"A".repeat(39)} ${"A".repeat(40)}`,
      `vault:v1:${body80}A`,
    ]) {
      const entry = { ...entryOf(kek, wrapped), wrapped: new Uint8Array(Buffer.from(bad, "latin1")) };
      await expectCode(kek.unwrap(entry, CONTEXT), "MALFORMED");
    }
    expect(vault().calls.count("Decrypt")).toBe(0);
    const other = keyed();
    await expectCode(other.unwrap(entryOf(kek, wrapped), CONTEXT), "KEY_ID_MISMATCH");
  });

  it("ciphertexts Vault itself rejects → TAMPERED: bad base64 of the right length, damaged under RSA-OAEP", async () => {
    const kek = keyed();
    const garbled = {
      provider: kek.provider,
      keyId: kek.keyId,
      wrapped: new Uint8Array(Buffer.from(`vault:v1:${"!".repeat(80)}`)),
    };
    const error = await expectCode(kek.unwrap(garbled, CONTEXT), "TAMPERED");
    expect(error.cause).toMatchObject({ errors: ["invalid ciphertext: could not decode base64"] });
    const name = unique("rsa");
    vault().createKey(name, { type: "rsa-2048" });
    const rsa = kekFor(name, { keyType: "rsa-2048" });
    const wrapped = await rsa.wrap(randomBytes(32), CONTEXT);
    const body = Buffer.from(
      Buffer.from(wrapped.wrapped).toString("latin1").slice("vault:v1:".length),
      "base64",
    );
    body[0]! ^= 1;
    const damaged = new Uint8Array(Buffer.from(`vault:v1:${body.toString("base64")}`, "latin1"));
    const rsaError = await expectCode(
      rsa.unwrap({ ...entryOf(rsa, wrapped), wrapped: damaged }, CONTEXT),
      "TAMPERED",
    );
    expect(rsaError.cause).toMatchObject({ errors: ["crypto/rsa: decryption error"] });
  });

  it("a version retired by min_decryption_version → KEY_DISABLED naming it", async () => {
    const name = unique("minver");
    vault().createKey(name);
    const kek = kekFor(name);
    const v1 = await kek.wrap(randomBytes(32), CONTEXT);
    vault().rotateKey(name);
    vault().configureKey(name, { minDecryptionVersion: 2 });
    const error = await expectCode(kek.unwrap(entryOf(kek, v1), CONTEXT), "KEY_DISABLED");
    expect(error.message).toContain("min_decryption_version");
  });
});

describe("argument checks", () => {
  it("wrap refuses anything but a 32-byte key, unwrap anything but an entry, before any call", async () => {
    const kek = keyed();
    await expectCode(kek.wrap(new Uint8Array(16), CONTEXT), "INVALID_ARGUMENT");
    await expectCode(kek.wrap("x" as unknown as Uint8Array, CONTEXT), "INVALID_ARGUMENT");
    await expectCode(kek.unwrap(undefined as never, CONTEXT), "INVALID_ARGUMENT");
    const noBytes = { provider: kek.provider, keyId: kek.keyId, wrapped: "vault:v1:AAAA" as never };
    await expectCode(kek.unwrap(noBytes, CONTEXT), "INVALID_ARGUMENT");
    expect(vault().calls.count("Encrypt") + vault().calls.count("Decrypt")).toBe(0);
  });
});
