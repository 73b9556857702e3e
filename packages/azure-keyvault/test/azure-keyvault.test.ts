import { randomBytes } from "node:crypto";
import { inspect as utilInspect } from "node:util";
import type { TokenCredential } from "@azure/core-auth";
import {
  createKeyring,
  createKeyringFromUris,
  createKeyUriRegistry,
  decrypt,
  EnvelopeError,
  type ErrorCode,
  encrypt,
  inspect,
  type KeyEncryptionKey,
  type KmsEvent,
} from "@kms-envelope/core";
import { type AzureKeyVaultEmulator, startAzureKeyVaultEmulator } from "@kms-envelope/emulators/azure";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  type AzureKeyVaultKekOptions,
  azureKeyVaultUriProvider,
  createAzureKeyVaultKek,
} from "../src/index.js";

let emulator: AzureKeyVaultEmulator;
beforeAll(async () => {
  emulator = await startAzureKeyVaultEmulator();
});
afterAll(() => emulator.close());
beforeEach(() => {
  emulator.faults.clear();
  emulator.calls.reset();
});

const CONTEXT = { tenant: "acme" };
const uniqueName = (prefix: string) => `${prefix}-${randomBytes(4).toString("hex")}`;

function kekFor(keyId: string, extra: Partial<AzureKeyVaultKekOptions> = {}): KeyEncryptionKey {
  return createAzureKeyVaultKek({
    keyId,
    credential: emulator.credential,
    clientOptions: emulator.clientOptions(),
    ...extra,
  });
}

async function codeOf(promise: Promise<unknown>): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected a rejection").toBeInstanceOf(EnvelopeError);
  return error as EnvelopeError;
}

async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<EnvelopeError> {
  const error = await codeOf(promise);
  expect(error.code, error.message).toBe(code);
  return error;
}

const entryOf = (kek: KeyEncryptionKey, wrapped: { keyId: string; wrapped: Uint8Array }) => ({
  provider: kek.provider,
  ...wrapped,
});

describe("versioned kids and rotation", () => {
  it("records the full versioned kid the service returned, and keeps the configured id", async () => {
    const key = await emulator.createKey(uniqueName("kid"));
    const kek = kekFor(key.id);
    expect(kek.keyId).toBe(key.id);
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    expect(wrapped.keyId).toBe(key.kid);
    expect(wrapped.wrapped.length).toBe(256);
    // Real bearer flow: each SDK pipeline (KeyClient, then the version's CryptographyClient) first
    // sends no token and is answered 401 with the challenge.
    expect(emulator.calls.count("Challenge")).toBe(2);
    expect(emulator.calls.count("GetKey")).toBe(1);
    expect(emulator.calls.count("WrapKey")).toBe(1);
  });

  it("rotating the key never breaks old envelopes: unwrap uses exactly the recorded version", async () => {
    const name = uniqueName("rotate");
    const first = await emulator.createKey(name);
    const keyring = createKeyring({ primary: kekFor(first.id, { keyCacheMs: 0 }) });
    const old = await encrypt(Buffer.from("before rotation"), { keyring, context: CONTEXT });
    const rotated = await emulator.client().rotateKey(name);
    const fresh = await encrypt(Buffer.from("after rotation"), { keyring, context: CONTEXT });
    expect(inspect(old).wrappedKeys[0]?.keyId).toBe(first.kid);
    expect(inspect(fresh).wrappedKeys[0]?.keyId).toBe(rotated.id);
    expect(rotated.id).not.toBe(first.kid);
    // A new process (new KEK, empty cache) opens both.
    const reader = createKeyring({ primary: kekFor(first.id) });
    expect(Buffer.from((await decrypt(old, { keyring: reader })).plaintext).toString()).toBe(
      "before rotation",
    );
    expect(Buffer.from((await decrypt(fresh, { keyring: reader })).plaintext).toString()).toBe(
      "after rotation",
    );
    // Disabling the old version breaks only the envelopes it wrapped.
    await emulator.client().updateKeyProperties(name, first.version, { enabled: false });
    await expectCode(decrypt(old, { keyring: reader }), "NO_USABLE_KEY");
    expect((await decrypt(fresh, { keyring: reader })).plaintext.length).toBe(14);
  });

  it("an unversioned keyId matches all its versions; a versioned one only itself", async () => {
    const name = uniqueName("match");
    const first = await emulator.createKey(name);
    const second = await emulator.createKey(name);
    const unversioned = kekFor(first.id);
    const pinned = kekFor(first.kid);
    const entry = (keyId: string, provider = "azure-keyvault") => ({ provider, keyId });
    expect(unversioned.matches?.(entry(first.kid))).toBe(true);
    expect(unversioned.matches?.(entry(second.kid))).toBe(true);
    expect(unversioned.matches?.(entry(first.id))).toBe(true);
    expect(pinned.matches?.(entry(first.kid))).toBe(true);
    expect(pinned.matches?.(entry(second.kid))).toBe(false);
    expect(unversioned.matches?.(entry(`${first.id}x/${first.version}`))).toBe(false);
    expect(unversioned.matches?.(entry(first.kid.replace("https://", "https://other.")))).toBe(false);
    expect(unversioned.matches?.(entry(first.kid, "local"))).toBe(false);
    expect(unversioned.matches?.(entry("not a url"))).toBe(false);
  });

  it("a versioned keyId wraps with that version after rotation, and refuses other versions' entries", async () => {
    const name = uniqueName("pinned");
    const first = await emulator.createKey(name);
    await emulator.createKey(name);
    const pinned = kekFor(first.kid);
    const wrapped = await pinned.wrap(randomBytes(32), CONTEXT);
    expect(wrapped.keyId).toBe(first.kid);
    const latest = await kekFor(first.id).wrap(randomBytes(32), CONTEXT);
    expect(latest.keyId).not.toBe(first.kid);
    await expectCode(pinned.unwrap(entryOf(pinned, latest), CONTEXT), "KEY_ID_MISMATCH");
  });
});

describe("wrapLocally", () => {
  it("makes one keys/get and no wrap call per encrypt, and the service unwraps what it made", async () => {
    const key = await emulator.createKey(uniqueName("local"), { keySize: 3072 });
    // The wrapping side needs keys/get only; the reading side keys/get and keys/unwrapKey.
    const writer = kekFor(key.id, { wrapLocally: true, credential: emulator.credentialWith(["get"]) });
    const reader = kekFor(key.id, { credential: emulator.credentialWith(["get", "unwrapKey"]) });
    const deks = Array.from({ length: 20 }, () => randomBytes(32));
    const wrapped = [];
    for (const dek of deks) wrapped.push(await writer.wrap(dek, CONTEXT));
    expect(emulator.calls.count("GetKey")).toBe(1);
    expect(emulator.calls.count("WrapKey")).toBe(0);
    for (const [i, item] of wrapped.entries()) {
      expect(item.keyId).toBe(key.kid);
      expect(item.wrapped.length).toBe(384);
      expect(Buffer.from(await reader.unwrap(entryOf(reader, item), CONTEXT))).toEqual(deks[i]);
    }
    expect(emulator.calls.count("UnwrapKey")).toBe(20);
  });

  it("refuses a disabled key instead of making envelopes nobody can open", async () => {
    const name = uniqueName("local-disabled");
    const key = await emulator.createKey(name);
    await emulator.client().updateKeyProperties(name, key.version, { enabled: false });
    await expectCode(kekFor(key.id, { wrapLocally: true }).wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
  });

  it("refuses an AES key, which has no public half", async () => {
    const key = await emulator.createKey(uniqueName("local-oct"), { kty: "oct-HSM" });
    await expectCode(
      kekFor(key.id, { wrapLocally: true }).wrap(randomBytes(32), CONTEXT),
      "INVALID_ARGUMENT",
    );
  });
});

describe("Managed HSM oct-HSM keys", () => {
  it("wrap with A256KW (RFC 3394: 40 bytes, deterministic) and unwrap", async () => {
    const key = await emulator.createKey(uniqueName("hsm"), { kty: "oct-HSM" });
    const kek = kekFor(key.id);
    const dek = randomBytes(32);
    const first = await kek.wrap(dek, CONTEXT);
    const second = await kek.wrap(dek, CONTEXT);
    expect(first.wrapped.length).toBe(40);
    expect(Buffer.from(first.wrapped)).toEqual(Buffer.from(second.wrapped));
    expect(Buffer.from(await kek.unwrap(entryOf(kek, first), CONTEXT))).toEqual(dek);
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(Buffer.from("hsm"), { keyring, context: CONTEXT });
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext).toString()).toBe("hsm");
  });

  it("an explicit algorithm that does not fit the key is the service's 400, as INVALID_ARGUMENT", async () => {
    const key = await emulator.createKey(uniqueName("hsm-alg"), { kty: "oct-HSM" });
    await expectCode(
      kekFor(key.id, { algorithm: "RSA-OAEP-256" }).wrap(randomBytes(32), CONTEXT),
      "INVALID_ARGUMENT",
    );
  });
});

describe("faults and retries", () => {
  it("retries a 429 after its Retry-After (1 s on the wire)", async () => {
    const key = await emulator.createKey(uniqueName("throttle"));
    const kek = kekFor(key.id);
    await kek.wrap(randomBytes(32), CONTEXT);
    emulator.calls.reset();
    emulator.faults.inject({ kind: "throttle", operation: "WrapKey" });
    const started = Date.now();
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(wrapped.keyId).toBe(key.kid);
    expect(emulator.faults.pending).toBe(0);
    expect(emulator.calls.count("WrapKey")).toBe(1);
  });

  it("retries 5xx and reset connections through the client's retry options", async () => {
    const key = await emulator.createKey(uniqueName("retry"));
    const kek = kekFor(key.id);
    emulator.faults.inject({ kind: "unavailable", operation: "WrapKey" }, 2);
    emulator.faults.inject({ kind: "reset", operation: "WrapKey" });
    expect((await kek.wrap(randomBytes(32), CONTEXT)).keyId).toBe(key.kid);
    expect(emulator.faults.pending).toBe(0);
  });

  it("throttling that outlasts the retries is KMS_THROTTLED and retryable", async () => {
    const key = await emulator.createKey(uniqueName("throttled"));
    const kek = kekFor(key.id, {
      clientOptions: emulator.clientOptions({ retryOptions: { maxRetries: 0 } }),
    });
    emulator.faults.inject({ kind: "throttle", operation: "WrapKey", delayMs: 0 });
    const error = await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_THROTTLED");
    expect(error.retryable).toBe(true);
  });

  it("a 429 carries Key Vault's Retry-After; core's retry waits exactly that once the SDK's are off", async () => {
    const key = await emulator.createKey(uniqueName("retry-after"));
    const kek = kekFor(key.id, {
      clientOptions: emulator.clientOptions({ retryOptions: { maxRetries: 0 } }),
    });
    await kek.wrap(randomBytes(32), CONTEXT);
    emulator.faults.inject({ kind: "throttle", operation: "WrapKey", delayMs: 2000 });
    const error = await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_THROTTLED");
    expect(error.retryAfterMs).toBe(2000);

    const events: KmsEvent[] = [];
    const keyring = createKeyring({
      primary: kek,
      kms: { retry: { maxAttempts: 2, baseDelayMs: 1 } },
      onEvent: (event) => events.push(event),
    });
    emulator.faults.inject({ kind: "throttle", operation: "WrapKey", delayMs: 1000 });
    const started = performance.now();
    const envelope = await encrypt(randomBytes(10), { keyring, context: CONTEXT });
    expect(performance.now() - started).toBeGreaterThanOrEqual(990);
    expect(emulator.faults.pending).toBe(0);
    expect(events.filter((event) => event.type === "retry")).toEqual([
      expect.objectContaining({ delayMs: 1000, retryAfter: true, code: "KMS_THROTTLED", attempt: 2 }),
    ]);
    expect(inspect(envelope).wrappedKeys[0]!.keyId).toBe(key.kid);
  });

  it("5xx and resets that outlast the retries are KMS_UNAVAILABLE", async () => {
    const key = await emulator.createKey(uniqueName("down"));
    const kek = kekFor(key.id, {
      clientOptions: emulator.clientOptions({ retryOptions: { maxRetries: 1 } }),
    });
    emulator.faults.inject({ kind: "unavailable", operation: "GetKey" }, 2);
    expect((await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE")).retryable).toBe(true);
    emulator.faults.inject({ kind: "reset", operation: "GetKey" }, 2);
    await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KMS_UNAVAILABLE");
  });

  it("a burst of first wraps shares one keys/get; an aborted waiter leaves the others alone", async () => {
    const key = await emulator.createKey(uniqueName("burst"));
    const kek = kekFor(key.id);
    emulator.faults.inject({ kind: "latency", operation: "GetKey", delayMs: 300 });
    const aborted = kek.wrap(randomBytes(32), CONTEXT, { signal: AbortSignal.timeout(50) });
    const wraps = Array.from({ length: 20 }, () => kek.wrap(randomBytes(32), CONTEXT));
    await expectCode(aborted, "ABORTED");
    expect((await Promise.all(wraps)).every((item) => item.keyId === key.kid)).toBe(true);
    expect(emulator.calls.count("GetKey")).toBe(1);
    expect(emulator.calls.count("WrapKey")).toBe(20);
  });

  it("an AbortSignal cancels a slow call with ABORTED", async () => {
    const key = await emulator.createKey(uniqueName("abort"));
    const kek = kekFor(key.id);
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    emulator.faults.inject({ kind: "latency", operation: "UnwrapKey", delayMs: 5_000 });
    const started = Date.now();
    await expectCode(
      kek.unwrap(entryOf(kek, wrapped), CONTEXT, { signal: AbortSignal.timeout(100) }),
      "ABORTED",
    );
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});

describe("error codes", () => {
  it("KEY_NOT_FOUND for a key the vault does not have", async () => {
    await expectCode(
      kekFor(`${emulator.vaultUrl}/keys/${uniqueName("missing")}`).wrap(randomBytes(32), CONTEXT),
      "KEY_NOT_FOUND",
    );
  });

  it("KEY_DISABLED for a disabled key, on wrap and on unwrap", async () => {
    const name = uniqueName("disabled");
    const key = await emulator.createKey(name);
    const kek = kekFor(key.id, { keyCacheMs: 0 });
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    await emulator.client().updateKeyProperties(name, key.version, { enabled: false });
    await expectCode(kek.wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
    await expectCode(kek.unwrap(entryOf(kek, wrapped), CONTEXT), "KEY_DISABLED");
  });

  it("KEY_DISABLED for an expired key, service wrap and local wrap alike", async () => {
    const name = uniqueName("expired");
    const key = await emulator.client().createRsaKey(name, { expiresOn: new Date(Date.now() - 60_000) });
    await expectCode(kekFor(key.id!).wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
    await expectCode(kekFor(key.id!, { wrapLocally: true }).wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
  });

  it("KEY_DISABLED for a key before its activation date (notBefore), service wrap and local wrap alike", async () => {
    const name = uniqueName("not-yet");
    const key = await emulator.client().createRsaKey(name, { notBefore: new Date(Date.now() + 3_600_000) });
    await expectCode(kekFor(key.id!).wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
    await expectCode(kekFor(key.id!, { wrapLocally: true }).wrap(randomBytes(32), CONTEXT), "KEY_DISABLED");
  });

  it("KEY_ACCESS_DENIED for a 403 (no permission) and a 401 (token refused)", async () => {
    const key = await emulator.createKey(uniqueName("denied"));
    await expectCode(
      kekFor(key.id, { credential: emulator.credentialWith(["get"]) }).wrap(randomBytes(32), CONTEXT),
      "KEY_ACCESS_DENIED",
    );
    const stranger: TokenCredential = {
      getToken: async () => ({ token: "not-issued-by-this-vault", expiresOnTimestamp: Date.now() + 60_000 }),
    };
    await expectCode(
      kekFor(key.id, { credential: stranger }).wrap(randomBytes(32), CONTEXT),
      "KEY_ACCESS_DENIED",
    );
  });

  it("TAMPERED for bytes the service cannot unwrap, MALFORMED for the wrong length, KEY_ID_MISMATCH for another key", async () => {
    const key = await emulator.createKey(uniqueName("tamper"));
    const other = await emulator.createKey(uniqueName("tamper-other"));
    const kek = kekFor(key.id);
    const wrapped = await kek.wrap(randomBytes(32), CONTEXT);
    const flipped = new Uint8Array(wrapped.wrapped);
    flipped[100]! ^= 1;
    await expectCode(kek.unwrap({ ...entryOf(kek, wrapped), wrapped: flipped }, CONTEXT), "TAMPERED");
    await expectCode(
      kek.unwrap({ ...entryOf(kek, wrapped), wrapped: flipped.subarray(1) }, CONTEXT),
      "MALFORMED",
    );
    await expectCode(kekFor(other.id).unwrap(entryOf(kek, wrapped), CONTEXT), "KEY_ID_MISMATCH");
  });

  it("INVALID_ARGUMENT for a keyId that is not a Key Vault key id", () => {
    for (const bad of [
      "",
      "http://v.vault.azure.net/keys/k",
      "https://v.vault.azure.net/secrets/k",
      "https://v/keys/k/v/x",
      "https://v/keys/k?x=1",
    ]) {
      expect(() => kekFor(bad)).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("keeps the SDK error as a sanitised cause: status and Key Vault codes, no request, no DEK", async () => {
    const key = await emulator.createKey(uniqueName("cause"));
    const dek = randomBytes(32);
    const error = await expectCode(
      kekFor(key.id, { credential: emulator.credentialWith(["get"]) }).wrap(dek, CONTEXT),
      "KEY_ACCESS_DENIED",
    );
    expect(error.cause).toMatchObject({ name: "RestError", statusCode: 403, code: "Forbidden" });
    expect(error.cause).toMatchObject({ details: { error: { innerError: { code: "ForbiddenByPolicy" } } } });
    expect(Object.getOwnPropertyNames(error.cause)).not.toContain("request");
    const everything = utilInspect(error, { depth: 20, showHidden: true });
    for (const encoding of ["hex", "base64", "base64url"] as const)
      expect(everything).not.toContain(dek.toString(encoding));
  });
});

describe("azure-keyvault:// URIs", () => {
  it("open through a core registry and round-trip", async () => {
    const key = await emulator.createKey(uniqueName("uri"));
    const registry = createKeyUriRegistry([azureKeyVaultUriProvider]);
    const uri = `azure-keyvault://${key.id.slice("https://".length)}`;
    expect(azureKeyVaultUriProvider.uriFor?.(key.kid)).toBe(
      `azure-keyvault://${key.kid.slice("https://".length)}`,
    );
    const providerOptions = {
      "azure-keyvault": { credential: emulator.credential, clientOptions: emulator.clientOptions() },
    };
    const keyring = await createKeyringFromUris([uri], { registry, providerOptions });
    expect(keyring.primary?.keyId).toBe(key.id);
    const envelope = await encrypt(Buffer.from("by uri"), { keyring, context: CONTEXT });
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext).toString()).toBe("by uri");
    await expect(
      registry.open(uri, { "azure-keyvault": { credentials: emulator.credential } }),
    ).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
    await expect(registry.open("azure-keyvault://https://v.vault.azure.net/keys/k")).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
    });
  });
});
