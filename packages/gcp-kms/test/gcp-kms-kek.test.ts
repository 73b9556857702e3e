import { inspect as inspectValue } from "node:util";
import { createKeyring, decrypt, encrypt, inspect, type WrappedKeyEntry } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { createGcpKmsKek } from "../src/index.js";
import { rejection, TRANSPORTS, useEmulator } from "./helpers.js";

const CONTEXT = { tenant: "acme", purpose: "gcp-test" };
const data = new TextEncoder().encode("the data, never seen by Cloud KMS");

function dek(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

function entry(keyId: string, wrapped: Uint8Array): WrappedKeyEntry {
  return { provider: "gcp-kms", keyId, wrapped };
}

const env = useEmulator();

describe.each(TRANSPORTS)("symmetric key over %s", (transport) => {
  it("encrypts and decrypts an envelope, recording the key name, one Encrypt and one Decrypt", async () => {
    const { kek, key } = env.kek(transport);
    const keyring = createKeyring({ primary: kek });
    const before = { enc: env.emulator.calls.count("Encrypt"), dec: env.emulator.calls.count("Decrypt") };
    const envelope = await encrypt(data, { keyring, context: CONTEXT });
    expect(inspect(envelope).wrappedKeys).toEqual([
      { provider: "gcp-kms", keyId: key.name, wrappedLength: expect.any(Number) },
    ]);
    const { plaintext } = await decrypt(envelope, { keyring, expectedContext: CONTEXT });
    expect(Buffer.from(plaintext).equals(Buffer.from(data))).toBe(true);
    expect(env.emulator.calls.count("Encrypt") - before.enc).toBe(1);
    expect(env.emulator.calls.count("Decrypt") - before.dec).toBe(1);
  });

  it("binds the context as AAD in Cloud KMS: another context is TAMPERED", async () => {
    const { kek, key } = env.kek(transport);
    const wrapped = await kek.wrap(dek(), CONTEXT);
    const error = await rejection(
      kek.unwrap(entry(key.name, wrapped.wrapped), { ...CONTEXT, tenant: "evil" }),
    );
    expect(error.code).toBe("TAMPERED");
  });

  it("rotation keeps old envelopes decryptable; disabling the old version then fails with KEY_DISABLED", async () => {
    const { kek, key } = env.kek(transport);
    const admin = env.client("grpc");
    const keyring = createKeyring({ primary: kek });
    const old = await encrypt(data, { keyring, context: CONTEXT });
    const [version] = await admin.createCryptoKeyVersion({ parent: key.name, cryptoKeyVersion: {} });
    const id = String(version.name).split("/").pop() ?? "";
    const [updated] = await admin.updateCryptoKeyPrimaryVersion({ name: key.name, cryptoKeyVersionId: id });
    expect(updated.primary?.name).toBe(`${key.name}/cryptoKeyVersions/2`);
    const fresh = await encrypt(data, { keyring, context: CONTEXT });
    for (const envelope of [old, fresh]) {
      const { plaintext } = await decrypt(envelope, { keyring, expectedContext: CONTEXT });
      expect(Buffer.from(plaintext).equals(Buffer.from(data))).toBe(true);
    }
    await admin.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: `${key.name}/cryptoKeyVersions/1`, state: "DISABLED" },
      updateMask: { paths: ["state"] },
    });
    const oldEntry = entry(key.name, (await kek.wrap(dek(), CONTEXT)).wrapped); // made by v2: still fine
    expect((await kek.unwrap(oldEntry, CONTEXT)).length).toBe(32);
    const failure = await rejection(decrypt(old, { keyring }));
    expect(failure.code).toBe("NO_USABLE_KEY");
    const { failures } = failure as unknown as { failures: { error: { code: string } }[] };
    expect(failures.map((f) => f.error.code)).toEqual(["KEY_DISABLED"]);
    await decrypt(fresh, { keyring });
  });

  it("sends the right bytes for views into larger buffers (wrapped keys inside a parsed envelope)", async () => {
    const { kek, key } = env.kek(transport);
    const wrapped = (await kek.wrap(dek(), CONTEXT)).wrapped;
    const padded = new Uint8Array(wrapped.length + 16);
    padded.set(wrapped, 7);
    const view = padded.subarray(7, 7 + wrapped.length);
    expect((await kek.unwrap(entry(key.name, view), CONTEXT)).length).toBe(32);
  });

  it("a destroyed primary version is KEY_DISABLED for wrap and unwrap", async () => {
    const { kek, key } = env.kek(transport);
    const wrapped = await kek.wrap(dek(), CONTEXT);
    await env.client("grpc").destroyCryptoKeyVersion({ name: `${key.name}/cryptoKeyVersions/1` });
    expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_DISABLED");
    expect((await rejection(kek.unwrap(entry(key.name, wrapped.wrapped), CONTEXT))).code).toBe(
      "KEY_DISABLED",
    );
  });

  describe("CRC32C end to end", () => {
    it("a ciphertext corrupted on the way back from Encrypt is KMS_INTEGRITY", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "corrupt-response", operation: "Encrypt" });
      const error = await rejection(kek.wrap(dek(), CONTEXT));
      expect(error.code).toBe("KMS_INTEGRITY");
      expect(error.retryable).toBe(true);
    });

    it("an Encrypt that did not verify our checksums is KMS_INTEGRITY", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "unverified", operation: "Encrypt" });
      expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KMS_INTEGRITY");
    });

    it("an Encrypt answered by another key version's name is KEY_ID_MISMATCH", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "wrong-name", operation: "Encrypt" });
      expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_ID_MISMATCH");
    });

    it("a plaintext corrupted on the way back from Decrypt is KMS_INTEGRITY, never a wrong DEK", async () => {
      const { kek, key } = env.kek(transport);
      const wrapped = await kek.wrap(dek(), CONTEXT);
      env.emulator.faults.inject({ kind: "corrupt-response", operation: "Decrypt" });
      expect((await rejection(kek.unwrap(entry(key.name, wrapped.wrapped), CONTEXT))).code).toBe(
        "KMS_INTEGRITY",
      );
    });

    it("a request corrupted on the way in fails Cloud KMS's own check: KMS_INTEGRITY", async () => {
      const { kek, key } = env.kek(transport);
      const wrapped = await kek.wrap(dek(), CONTEXT);
      env.emulator.faults.inject({ kind: "corrupt-request", operation: "Decrypt" });
      expect((await rejection(kek.unwrap(entry(key.name, wrapped.wrapped), CONTEXT))).code).toBe(
        "KMS_INTEGRITY",
      );
      env.emulator.faults.inject({ kind: "corrupt-request", operation: "Encrypt" });
      expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KMS_INTEGRITY");
    });
  });

  describe("error table", () => {
    it("PERMISSION_DENIED and UNAUTHENTICATED are KEY_ACCESS_DENIED, with no key material anywhere", async () => {
      const { kek, key } = env.kek(transport);
      const undo = env.emulator.deny({
        permission: "cloudkms.cryptoKeyVersions.useToEncrypt",
        resource: key.name,
      });
      const secret = dek();
      try {
        const error = await rejection(kek.wrap(secret, CONTEXT));
        expect(error.code).toBe("KEY_ACCESS_DENIED");
        expect((error.cause as { code?: number }).code).toBe(7);
        const text = `${error.message} ${inspectValue(error, { depth: 20 })} ${JSON.stringify(error)}`;
        expect(text).not.toContain(Buffer.from(secret).toString("base64"));
        expect(text).not.toContain(Buffer.from(secret).toString("hex"));
      } finally {
        undo();
      }
      env.emulator.faults.inject({ kind: "status", status: "UNAUTHENTICATED", operation: "Encrypt" });
      expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_ACCESS_DENIED");
    });

    it("NOT_FOUND is KEY_NOT_FOUND", async () => {
      const name = "projects/test-project/locations/global/keyRings/test-ring/cryptoKeys/missing";
      const kek = createGcpKmsKek({ name, client: env.client(transport) });
      expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KEY_NOT_FOUND");
    });

    it("INVALID_ARGUMENT on Decrypt (a bad ciphertext) is TAMPERED", async () => {
      const { kek, key } = env.kek(transport);
      expect((await rejection(kek.unwrap(entry(key.name, new Uint8Array(64)), CONTEXT))).code).toBe(
        "TAMPERED",
      );
    });

    it("RESOURCE_EXHAUSTED is KMS_THROTTLED (retryable)", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "throttle", operation: "Encrypt" });
      const error = await rejection(kek.wrap(dek(), CONTEXT));
      expect([error.code, error.retryable]).toEqual(["KMS_THROTTLED", true]);
    });

    it("UNAVAILABLE past the configured attempts is KMS_UNAVAILABLE", async () => {
      // gax counts `maxRetries` as attempts in all: 2 means one first try and one retry.
      const { kek } = env.kek(transport, { callOptions: { maxRetries: 2 } });
      env.emulator.faults.inject({ kind: "unavailable", operation: "Encrypt" }, 2);
      const before = env.emulator.calls.count("Encrypt");
      const error = await rejection(kek.wrap(dek(), CONTEXT));
      expect([error.code, error.retryable]).toEqual(["KMS_UNAVAILABLE", true]);
      expect(env.emulator.calls.count("Encrypt") - before).toBe(2);
    });

    it("DEADLINE_EXCEEDED (latency past the configured timeout) is KMS_UNAVAILABLE", async () => {
      const { kek } = env.kek(transport, { callOptions: { timeout: 200, maxRetries: 0 } });
      env.emulator.faults.inject({ kind: "latency", delayMs: 1500, operation: "Encrypt" });
      const error = await rejection(kek.wrap(dek(), CONTEXT));
      expect(error.code).toBe("KMS_UNAVAILABLE");
      expect((error.cause as { code?: number }).code).toBe(4);
    });
  });

  describe("retries and cancellation", () => {
    it("one UNAVAILABLE is retried by the client and succeeds", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "unavailable", operation: "Encrypt" });
      const before = env.emulator.calls.count("Encrypt");
      await kek.wrap(dek(), CONTEXT);
      expect(env.emulator.calls.count("Encrypt") - before).toBe(2);
    });

    it("a dropped connection is retried and succeeds; without retries it is KMS_UNAVAILABLE", async () => {
      const { kek, key } = env.kek(transport);
      const wrapped = await kek.wrap(dek(), CONTEXT);
      env.emulator.faults.inject({ kind: "reset", operation: "Decrypt" });
      expect((await kek.unwrap(entry(key.name, wrapped.wrapped), CONTEXT)).length).toBe(32);
      const strict = createGcpKmsKek({
        name: key.name,
        client: env.client(transport),
        callOptions: { maxRetries: 0 },
      });
      env.emulator.faults.inject({ kind: "reset", operation: "Decrypt" });
      expect((await rejection(strict.unwrap(entry(key.name, wrapped.wrapped), CONTEXT))).code).toBe(
        "KMS_UNAVAILABLE",
      );
    });

    it("an AbortSignal cancels a slow call promptly with ABORTED", async () => {
      const { kek } = env.kek(transport);
      env.emulator.faults.inject({ kind: "latency", delayMs: 3000, operation: "Encrypt" });
      const started = Date.now();
      const error = await rejection(kek.wrap(dek(), CONTEXT, { signal: AbortSignal.timeout(100) }));
      expect(error.code).toBe("ABORTED");
      expect(Date.now() - started).toBeLessThan(1500);
    });

    it("an already-aborted signal makes no call at all", async () => {
      const { kek } = env.kek(transport);
      const before = env.emulator.calls.count("Encrypt");
      const controller = new AbortController();
      controller.abort();
      expect((await rejection(kek.wrap(dek(), CONTEXT, { signal: controller.signal }))).code).toBe("ABORTED");
      expect(env.emulator.calls.count("Encrypt")).toBe(before);
    });
  });
});

describe.each(TRANSPORTS)("asymmetric RSA-OAEP key over %s", (transport) => {
  it("wraps offline with the cached public key (zero Encrypt calls) and unwraps with AsymmetricDecrypt", async () => {
    const { kek, key } = env.kek(transport, { asymmetric: true });
    const calls = env.emulator.calls;
    const before = {
      enc: calls.count("Encrypt"),
      pub: calls.count("GetPublicKey"),
      dec: calls.count("AsymmetricDecrypt"),
    };
    const keyring = createKeyring({ primary: kek });
    const envelopes = [];
    for (let i = 0; i < 5; i++) envelopes.push(await encrypt(data, { keyring, context: CONTEXT }));
    expect(calls.count("Encrypt") - before.enc).toBe(0);
    expect(calls.count("GetPublicKey") - before.pub).toBe(1);
    expect(inspect(envelopes[0]!).wrappedKeys[0]?.keyId).toBe(key.versionName);
    const { plaintext } = await decrypt(envelopes[4]!, { keyring, expectedContext: CONTEXT });
    expect(Buffer.from(plaintext).equals(Buffer.from(data))).toBe(true);
    expect(calls.count("AsymmetricDecrypt") - before.dec).toBe(1);
  });

  it("writers need only cloudkms.cryptoKeyVersions.viewPublicKey; readers need useToDecrypt", async () => {
    const { kek, key } = env.kek(transport, { asymmetric: true });
    const undo = env.emulator.deny({
      permission: "cloudkms.cryptoKeyVersions.useToDecrypt",
      resource: key.name,
    });
    const undoEncrypt = env.emulator.deny({ permission: "cloudkms.cryptoKeyVersions.useToEncrypt" });
    try {
      const wrapped = entry(key.versionName, (await kek.wrap(dek(), CONTEXT)).wrapped);
      expect((await rejection(kek.unwrap(wrapped, CONTEXT))).code).toBe("KEY_ACCESS_DENIED");
      undo();
      expect((await kek.unwrap(wrapped, CONTEXT)).length).toBe(32);
    } finally {
      undo();
      undoEncrypt();
    }
    const other = env.kek(transport, { asymmetric: true });
    const undoView = env.emulator.deny({
      permission: "cloudkms.cryptoKeyVersions.viewPublicKey",
      resource: other.key.name,
    });
    try {
      expect((await rejection(other.kek.wrap(dek(), CONTEXT))).code).toBe("KEY_ACCESS_DENIED");
    } finally {
      undoView();
    }
  });

  it("one caller aborting does not fail the others sharing the public-key fetch", async () => {
    const { kek } = env.kek(transport, { asymmetric: true });
    env.emulator.faults.inject({ kind: "latency", delayMs: 400, operation: "GetPublicKey" });
    const controller = new AbortController();
    const first = kek.wrap(dek(), CONTEXT, { signal: controller.signal });
    const second = kek.wrap(dek(), CONTEXT);
    setTimeout(() => controller.abort(), 50);
    expect((await rejection(first)).code).toBe("ABORTED");
    expect((await second).wrapped.length).toBe(256);
    expect(env.emulator.calls.count("GetPublicKey")).toBeGreaterThan(0);
  });

  it("a corrupted public key is KMS_INTEGRITY and is not cached", async () => {
    const { kek } = env.kek(transport, { asymmetric: true });
    env.emulator.faults.inject({ kind: "corrupt-response", operation: "GetPublicKey" });
    expect((await rejection(kek.wrap(dek(), CONTEXT))).code).toBe("KMS_INTEGRITY");
    expect((await kek.wrap(dek(), CONTEXT)).wrapped.length).toBe(256);
  });

  it("AsymmetricDecrypt corruption either way is KMS_INTEGRITY", async () => {
    const { kek, key } = env.kek(transport, { asymmetric: true });
    const wrapped = entry(key.versionName, (await kek.wrap(dek(), CONTEXT)).wrapped);
    for (const kind of ["corrupt-response", "unverified", "corrupt-request"] as const) {
      env.emulator.faults.inject({ kind, operation: "AsymmetricDecrypt" });
      expect((await rejection(kek.unwrap(wrapped, CONTEXT))).code, kind).toBe("KMS_INTEGRITY");
    }
    expect((await kek.unwrap(wrapped, CONTEXT)).length).toBe(32);
  });

  it("a disabled version is KEY_DISABLED on unwrap", async () => {
    const { kek, key } = env.kek(transport, { asymmetric: true });
    const wrapped = entry(key.versionName, (await kek.wrap(dek(), CONTEXT)).wrapped);
    env.emulator.setVersionState(key.versionName, "DISABLED");
    expect((await rejection(kek.unwrap(wrapped, CONTEXT))).code).toBe("KEY_DISABLED");
  });
});

describe("options", () => {
  it("rejects names that are not Cloud KMS key or version names", () => {
    for (const name of ["", "projects/p", "projects/p/locations/l/keyRings/r", "arn:aws:kms:x"]) {
      expect(() => createGcpKmsKek({ name })).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });

  it("creates its own client lazily from clientOptions, and closes only that one", async () => {
    const key = env.emulator.createKey();
    const kek = createGcpKmsKek({ name: key.name, clientOptions: env.emulator.clientOptions("rest") });
    expect(kek.mode).toBe("symmetric");
    const wrapped = await kek.wrap(dek(), CONTEXT);
    expect((await kek.unwrap(entry(key.name, wrapped.wrapped), CONTEXT)).length).toBe(32);
    await kek.close();
    const injected = createGcpKmsKek({ name: key.name, client: env.client("grpc") });
    await injected.close();
    await injected.wrap(dek(), CONTEXT); // the injected client is still open
  });

  it("refuses entries recorded for another key without calling Cloud KMS", async () => {
    const { kek } = env.kek("grpc");
    const before = env.emulator.calls.count("Decrypt");
    const error = await rejection(
      kek.unwrap(entry("projects/p/locations/l/keyRings/r/cryptoKeys/other", new Uint8Array(60)), CONTEXT),
    );
    expect(error.code).toBe("KEY_ID_MISMATCH");
    expect(env.emulator.calls.count("Decrypt")).toBe(before);
  });
});
