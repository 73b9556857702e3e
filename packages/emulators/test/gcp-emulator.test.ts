import { constants, publicEncrypt, randomBytes } from "node:crypto";
import { createServer, Socket } from "node:net";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { crc32c } from "@node-rs/crc32";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { type GcpKmsEmulator, type GcpTransport, startGcpKmsEmulator } from "../src/gcp/index.js";

// The client must never look for credentials or the metadata server: the emulator hands it a pass-through auth client.
process.env.METADATA_SERVER_DETECTION = "none";

// Every socket this file opens (grpc-js, gaxios) must go to loopback; anything else is refused and fails the file.
const refused: string[] = [];
const connect = Socket.prototype.connect;
Socket.prototype.connect = function guarded(this: Socket, ...args: unknown[]) {
  const first = Array.isArray(args[0]) ? args[0][0] : args[0];
  const target =
    typeof first === "object" && first !== null ? (first as { host?: string; path?: string }) : {};
  const host =
    target.path === undefined
      ? (target.host ?? (typeof args[1] === "string" ? args[1] : "localhost"))
      : "localhost";
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) {
    refused.push(host);
    throw new Error(`network guard: a test tried to reach ${host}`);
  }
  return (connect as (...a: unknown[]) => Socket).apply(this, args);
} as typeof Socket.prototype.connect;

const TRANSPORTS: readonly GcpTransport[] = ["grpc", "rest"];
let emulator: GcpKmsEmulator;
const clients = {} as Record<GcpTransport, KeyManagementServiceClient>;

beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  clients.grpc = emulator.client();
  clients.rest = emulator.client({ transport: "rest" });
});
afterEach(() => emulator.faults.clear());
afterAll(async () => {
  await Promise.all(Object.values(clients).map((client) => client.close()));
  await emulator.close();
  expect(refused, "connections to non-loopback addresses").toEqual([]);
});

async function failure(promise: Promise<unknown>): Promise<{ code: number; message: string }> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (error === undefined) throw new Error("expected the call to fail");
  return error as { code: number; message: string };
}

const crc = (data: Uint8Array | string) => ({
  value: String(crc32c(typeof data === "string" ? Buffer.from(data) : data)),
});
// No client retry, so the injected status itself comes back (gax turns exhausted retries into DEADLINE_EXCEEDED).
const NO_RETRY = { retry: null };

describe.each(TRANSPORTS)("Cloud KMS emulator over %s", (transport) => {
  const parent = `projects/p-${transport}/locations/europe-west1`;
  const ring = `${parent}/keyRings/ring`;
  const key = `${ring}/cryptoKeys/sym`;

  it("manages key rings, keys and versions: create, get, rotate, disable, destroy", async () => {
    const kms = clients[transport];
    const [created] = await kms.createKeyRing({ parent, keyRingId: "ring", keyRing: {} });
    expect(created.name).toBe(ring);
    expect((await failure(kms.createKeyRing({ parent, keyRingId: "ring", keyRing: {} }))).code).toBe(6);
    const [cryptoKey] = await kms.createCryptoKey({
      parent: ring,
      cryptoKeyId: "sym",
      cryptoKey: { purpose: "ENCRYPT_DECRYPT" },
    });
    expect(cryptoKey.primary?.name).toBe(`${key}/cryptoKeyVersions/1`);
    expect(cryptoKey.primary?.algorithm).toBe("GOOGLE_SYMMETRIC_ENCRYPTION");
    const [version] = await kms.createCryptoKeyVersion({ parent: key, cryptoKeyVersion: {} });
    expect(version.name).toBe(`${key}/cryptoKeyVersions/2`);
    expect(version.state).toBe("ENABLED");
    const [rotated] = await kms.updateCryptoKeyPrimaryVersion({ name: key, cryptoKeyVersionId: "2" });
    expect(rotated.primary?.name).toBe(`${key}/cryptoKeyVersions/2`);
    const [disabled] = await kms.updateCryptoKeyVersion({
      cryptoKeyVersion: { name: `${key}/cryptoKeyVersions/1`, state: "DISABLED" },
      updateMask: { paths: ["state"] },
    });
    expect(disabled.state).toBe("DISABLED");
    const [destroyed] = await kms.destroyCryptoKeyVersion({ name: `${key}/cryptoKeyVersions/1` });
    expect(destroyed.state).toBe("DESTROY_SCHEDULED");
    expect(Number(destroyed.destroyTime?.seconds)).toBeGreaterThan(Date.now() / 1000);
    const [fetched] = await kms.getCryptoKey({ name: key });
    expect([fetched.name, fetched.purpose, fetched.primary?.name]).toEqual([
      key,
      "ENCRYPT_DECRYPT",
      `${key}/cryptoKeyVersions/2`,
    ]);
    expect((await failure(kms.getCryptoKey({ name: `${ring}/cryptoKeys/none` }))).code).toBe(5);
  });

  it("Encrypt/Decrypt: AAD enforced, checksums computed and verified, version picked from the ciphertext", async () => {
    const kms = clients[transport];
    const { name } = emulator.createKey();
    const plaintext = randomBytes(32);
    const aad = Buffer.from("context");
    const [enc] = await kms.encrypt({
      name,
      plaintext,
      additionalAuthenticatedData: aad,
      plaintextCrc32c: crc(plaintext),
      additionalAuthenticatedDataCrc32c: crc(aad),
    });
    expect(enc.name).toBe(`${name}/cryptoKeyVersions/1`);
    expect([enc.verifiedPlaintextCrc32c, enc.verifiedAdditionalAuthenticatedDataCrc32c]).toEqual([
      true,
      true,
    ]);
    expect(String(enc.ciphertextCrc32c?.value)).toBe(crc(enc.ciphertext as Uint8Array).value);
    const [unverified] = await kms.encrypt({ name, plaintext });
    expect(unverified.verifiedPlaintextCrc32c).toBe(false);

    const ciphertext = enc.ciphertext as Uint8Array;
    emulator.rotateKey(name);
    const [dec] = await kms.decrypt({
      name,
      ciphertext,
      additionalAuthenticatedData: aad,
      ciphertextCrc32c: enc.ciphertextCrc32c ?? null,
    });
    expect(Buffer.from(dec.plaintext as Uint8Array).equals(plaintext)).toBe(true);
    expect(String(dec.plaintextCrc32c?.value)).toBe(crc(plaintext).value);
    expect(dec.usedPrimary).toBe(false);

    const wrongAad = await failure(
      kms.decrypt({ name, ciphertext, additionalAuthenticatedData: Buffer.from("other") }),
    );
    expect(wrongAad.code).toBe(3);
    const badCrc = await failure(kms.encrypt({ name, plaintext, plaintextCrc32c: { value: "1" } }));
    expect([badCrc.code, badCrc.message]).toEqual([
      3,
      expect.stringContaining("plaintext_crc32c did not match"),
    ]);
    const otherKey = emulator.createKey().name;
    expect(
      (await failure(kms.decrypt({ name: otherKey, ciphertext, additionalAuthenticatedData: aad }))).code,
    ).toBe(3);
    expect((await failure(kms.encrypt({ name, plaintext: Buffer.alloc(64 * 1024 + 1) }))).code).toBe(3);

    emulator.setVersionState(`${name}/cryptoKeyVersions/1`, "DISABLED");
    const disabled = await failure(kms.decrypt({ name, ciphertext, additionalAuthenticatedData: aad }));
    expect([disabled.code, disabled.message]).toEqual([
      9,
      expect.stringContaining("current state is: DISABLED"),
    ]);
  });

  it("GetPublicKey and AsymmetricDecrypt on an RSA-OAEP key, with checksums", async () => {
    const kms = clients[transport];
    const [created] = await kms.createCryptoKey({
      parent: emulator.createKey().name.replace(/\/cryptoKeys\/.*$/, ""),
      cryptoKeyId: `asym-${transport}`,
      cryptoKey: {
        purpose: "ASYMMETRIC_DECRYPT",
        versionTemplate: { algorithm: "RSA_DECRYPT_OAEP_3072_SHA256" },
      },
    });
    const versionName = `${created.name}/cryptoKeyVersions/1`;
    const [publicKey] = await kms.getPublicKey({ name: versionName });
    expect([publicKey.name, publicKey.algorithm]).toEqual([versionName, "RSA_DECRYPT_OAEP_3072_SHA256"]);
    expect(String(publicKey.pemCrc32c?.value)).toBe(crc(publicKey.pem ?? "").value);
    const secret = randomBytes(32);
    const ciphertext = publicEncrypt(
      { key: publicKey.pem!, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      secret,
    );
    expect(ciphertext.length).toBe(384);
    const [dec] = await kms.asymmetricDecrypt({
      name: versionName,
      ciphertext,
      ciphertextCrc32c: crc(ciphertext),
    });
    expect(Buffer.from(dec.plaintext as Uint8Array).equals(secret)).toBe(true);
    expect(dec.verifiedCiphertextCrc32c).toBe(true);
    expect(String(dec.plaintextCrc32c?.value)).toBe(crc(secret).value);
    expect(
      (await failure(kms.asymmetricDecrypt({ name: versionName, ciphertext: Buffer.alloc(384, 1) }))).code,
    ).toBe(3);
    expect((await failure(kms.encrypt({ name: created.name!, plaintext: secret }))).code).toBe(3);
  });

  it("denied permissions are PERMISSION_DENIED with the real message shape", async () => {
    const { name } = emulator.createKey();
    const undo = emulator.deny({ permission: "cloudkms.cryptoKeyVersions.useToEncrypt", resource: name });
    const denied = await failure(clients[transport].encrypt({ name, plaintext: Buffer.from("x") }));
    expect([denied.code, denied.message]).toEqual([
      7,
      expect.stringContaining("Permission 'cloudkms.cryptoKeyVersions.useToEncrypt' denied"),
    ]);
    undo();
    await clients[transport].encrypt({ name, plaintext: Buffer.from("x") });
  });

  it("injects RESOURCE_EXHAUSTED, UNAVAILABLE, any status, latency and dropped connections; counts calls", async () => {
    const kms = clients[transport];
    const { name } = emulator.createKey();
    const before = emulator.calls.count("Encrypt");
    emulator.faults.inject({ kind: "throttle", operation: "Encrypt" });
    expect((await failure(kms.encrypt({ name, plaintext: Buffer.from("x") }, NO_RETRY))).code).toBe(8);
    emulator.faults.inject({ kind: "unavailable", operation: "Encrypt" });
    expect((await failure(kms.encrypt({ name, plaintext: Buffer.from("x") }, NO_RETRY))).code).toBe(14);
    emulator.faults.inject({ kind: "status", status: "UNAUTHENTICATED", operation: "Encrypt" });
    expect((await failure(kms.encrypt({ name, plaintext: Buffer.from("x") }, NO_RETRY))).code).toBe(16);
    emulator.faults.inject({ kind: "reset", operation: "Encrypt" });
    expect((await failure(kms.encrypt({ name, plaintext: Buffer.from("x") }, NO_RETRY))).code).toBe(14);
    emulator.faults.inject({ kind: "latency", delayMs: 300, operation: "Encrypt" });
    const started = Date.now();
    await kms.encrypt({ name, plaintext: Buffer.from("x") });
    expect(Date.now() - started).toBeGreaterThanOrEqual(290);
    expect(emulator.calls.count("Encrypt") - before).toBe(5);
    expect(emulator.faults.pending).toBe(0);
  });

  it("corrupts responses after their checksum was computed", async () => {
    const kms = clients[transport];
    const { name } = emulator.createKey();
    emulator.faults.inject({ kind: "corrupt-response", operation: "Encrypt" });
    const [enc] = await kms.encrypt({ name, plaintext: Buffer.from("data") });
    expect(String(enc.ciphertextCrc32c?.value)).not.toBe(crc(enc.ciphertext as Uint8Array).value);
  });
});

describe("Cloud KMS emulator lifecycle", () => {
  it("answers UNIMPLEMENTED for RPCs it does not implement", async () => {
    expect(
      (
        await failure(
          clients.grpc.listKeyRings({ parent: "projects/p/locations/l" }, { autoPaginate: false }),
        )
      ).code,
    ).toBe(12);
  });

  it("listens on the requested port and closes cleanly", async () => {
    const free = await new Promise<number>((resolve) => {
      const probe = createServer().listen(0, "127.0.0.1", () => {
        const { port } = probe.address() as { port: number };
        probe.close(() => resolve(port));
      });
    });
    const own = await startGcpKmsEmulator({ port: free });
    expect([own.apiEndpoint, own.port]).toEqual(["127.0.0.1", free]);
    const client = own.client({ transport: "rest" });
    const { name } = own.createKey();
    await client.encrypt({ name, plaintext: Buffer.from("x") });
    await client.close();
    await own.close();
  });
});
