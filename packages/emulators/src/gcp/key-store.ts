import { createPrivateKey, generateKeyPairSync, type KeyObject, randomBytes } from "node:crypto";
import { b64, unb64 } from "../state-file.js";
import { openAsymmetric, openSymmetric, sealSymmetric, symmetricVersionOf } from "./ciphertext.js";
import { KmsStatusError } from "./status.js";

export type Purpose = "ENCRYPT_DECRYPT" | "ASYMMETRIC_DECRYPT";
export type VersionState = "ENABLED" | "DISABLED" | "DESTROY_SCHEDULED" | "DESTROYED";

export const SYMMETRIC_ALGORITHM = "GOOGLE_SYMMETRIC_ENCRYPTION";
/** Asymmetric decrypt algorithms the emulator implements, with their modulus size and OAEP hash. */
export const RSA_DECRYPT_ALGORITHMS: Readonly<Record<string, { bits: number; hash: string }>> = {
  RSA_DECRYPT_OAEP_2048_SHA256: { bits: 2048, hash: "sha256" },
  RSA_DECRYPT_OAEP_3072_SHA256: { bits: 3072, hash: "sha256" },
  RSA_DECRYPT_OAEP_4096_SHA256: { bits: 4096, hash: "sha256" },
  RSA_DECRYPT_OAEP_4096_SHA512: { bits: 4096, hash: "sha512" },
  RSA_DECRYPT_OAEP_2048_SHA1: { bits: 2048, hash: "sha1" },
};

export interface Timestamp {
  seconds: string;
  nanos: number;
}

export interface VersionRecord {
  readonly name: string;
  readonly algorithm: string;
  state: VersionState;
  readonly createTime: Timestamp;
  destroyTime?: Timestamp;
  /** Symmetric: the AES-256 key. */
  readonly secret?: Buffer;
  /** Asymmetric: the key pair. */
  readonly privateKey?: KeyObject;
  readonly publicPem?: string;
}

export interface CryptoKeyRecord {
  readonly name: string;
  readonly purpose: Purpose;
  readonly algorithm: string;
  readonly createTime: Timestamp;
  readonly labels: Record<string, string>;
  /** Random per key: symmetric ciphertexts carry it so Decrypt under another key fails cleanly. */
  readonly tag: Buffer;
  readonly versions: VersionRecord[];
  primary: VersionRecord | undefined;
}

const KEY_RING_PARENT = /^projects\/[^/]+\/locations\/[^/]+$/;
const ID = /^[a-zA-Z0-9_-]{1,63}$/;
const VERSION_NAME =
  /^(projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+)\/cryptoKeyVersions\/(\d+)$/;
const KEY_NAME = /^projects\/[^/]+\/locations\/[^/]+\/keyRings\/[^/]+\/cryptoKeys\/[^/]+$/;

/** What a state file holds for the Cloud KMS emulator. */
export interface GcpKeyStoreState {
  keyRings: { name: string; createTime: Timestamp }[];
  keys: {
    name: string;
    purpose: Purpose;
    algorithm: string;
    createTime: Timestamp;
    labels: Record<string, string>;
    tag: string;
    primary: string | undefined;
    versions: {
      name: string;
      algorithm: string;
      state: VersionState;
      createTime: Timestamp;
      destroyTime?: Timestamp;
      secret?: string;
      privateKey?: string;
      publicPem?: string;
    }[];
  }[];
}

export function now(): Timestamp {
  const ms = Date.now();
  return { seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 };
}

/** Key rings, keys and versions with their material: the whole state of one emulator. */
export function createKeyStore() {
  const keyRings = new Map<string, Timestamp>();
  const keys = new Map<string, CryptoKeyRecord>();
  const store = {
    keyRings,
    keys,

    /** The whole state as JSON-safe data (key material included), for a state file. */
    snapshot(): GcpKeyStoreState {
      return {
        keyRings: [...keyRings].map(([name, createTime]) => ({ name, createTime })),
        keys: [...keys.values()].map((key) => ({
          name: key.name,
          purpose: key.purpose,
          algorithm: key.algorithm,
          createTime: key.createTime,
          labels: key.labels,
          tag: b64(key.tag),
          primary: key.primary?.name,
          versions: key.versions.map((version) => ({
            name: version.name,
            algorithm: version.algorithm,
            state: version.state,
            createTime: version.createTime,
            ...(version.destroyTime === undefined ? {} : { destroyTime: version.destroyTime }),
            ...(version.secret === undefined ? {} : { secret: b64(version.secret) }),
            ...(version.privateKey === undefined
              ? {}
              : { privateKey: b64(version.privateKey.export({ type: "pkcs8", format: "der" })) }),
            ...(version.publicPem === undefined ? {} : { publicPem: version.publicPem }),
          })),
        })),
      };
    },

    /** Puts back what `snapshot` saved (into an empty store). */
    restore(state: GcpKeyStoreState): void {
      for (const ring of state.keyRings) keyRings.set(ring.name, ring.createTime);
      for (const saved of state.keys) {
        const versions: VersionRecord[] = saved.versions.map((version) => ({
          name: version.name,
          algorithm: version.algorithm,
          state: version.state,
          createTime: version.createTime,
          ...(version.destroyTime === undefined ? {} : { destroyTime: version.destroyTime }),
          ...(version.secret === undefined ? {} : { secret: unb64(version.secret) }),
          ...(version.privateKey === undefined
            ? {}
            : {
                privateKey: createPrivateKey({
                  key: unb64(version.privateKey),
                  format: "der",
                  type: "pkcs8",
                }),
              }),
          ...(version.publicPem === undefined ? {} : { publicPem: version.publicPem }),
        }));
        keys.set(saved.name, {
          name: saved.name,
          purpose: saved.purpose,
          algorithm: saved.algorithm,
          createTime: saved.createTime,
          labels: saved.labels,
          tag: unb64(saved.tag),
          versions,
          primary: versions.find((version) => version.name === saved.primary),
        });
      }
    },

    createKeyRing(parent: string, keyRingId: string): string {
      if (!KEY_RING_PARENT.test(parent)) throw invalid(`Invalid parent: ${parent}`);
      if (!ID.test(keyRingId)) throw invalid(`Invalid key ring id: ${keyRingId}`);
      const name = `${parent}/keyRings/${keyRingId}`;
      if (store.keyRings.has(name))
        throw new KmsStatusError("ALREADY_EXISTS", `KeyRing ${name} already exists.`);
      store.keyRings.set(name, now());
      return name;
    },

    keyRing(name: string): Timestamp {
      const ring = store.keyRings.get(name);
      if (ring === undefined) throw new KmsStatusError("NOT_FOUND", `KeyRing ${name} not found.`);
      return ring;
    },

    createCryptoKey(
      parent: string,
      cryptoKeyId: string,
      purpose: Purpose,
      algorithm: string | undefined,
      options: { skipInitialVersion?: boolean; labels?: Record<string, string> } = {},
    ): CryptoKeyRecord {
      store.keyRing(parent);
      if (!ID.test(cryptoKeyId)) throw invalid(`Invalid crypto key id: ${cryptoKeyId}`);
      const name = `${parent}/cryptoKeys/${cryptoKeyId}`;
      if (store.keys.has(name))
        throw new KmsStatusError("ALREADY_EXISTS", `CryptoKey ${name} already exists.`);
      let chosen: string;
      if (purpose === "ENCRYPT_DECRYPT") {
        chosen = algorithm ?? SYMMETRIC_ALGORITHM;
        if (chosen !== SYMMETRIC_ALGORITHM)
          throw invalid(`Algorithm ${chosen} is not valid for purpose ENCRYPT_DECRYPT.`);
      } else if (purpose === "ASYMMETRIC_DECRYPT") {
        if (algorithm === undefined || RSA_DECRYPT_ALGORITHMS[algorithm] === undefined) {
          throw invalid(`Algorithm ${algorithm ?? "(unset)"} is not valid for purpose ASYMMETRIC_DECRYPT.`);
        }
        chosen = algorithm;
      } else {
        throw invalid(`Purpose ${String(purpose)} is not supported by this emulator.`);
      }
      const key: CryptoKeyRecord = {
        name,
        purpose,
        algorithm: chosen,
        createTime: now(),
        labels: { ...options.labels },
        tag: randomBytes(8),
        versions: [],
        primary: undefined,
      };
      store.keys.set(name, key);
      if (options.skipInitialVersion !== true) {
        const version = store.createVersion(name);
        if (purpose === "ENCRYPT_DECRYPT") key.primary = version;
      }
      return key;
    },

    key(name: string): CryptoKeyRecord {
      if (!KEY_NAME.test(name)) throw invalid(`Resource name [${name}] does not match any known format.`);
      const key = store.keys.get(name);
      if (key === undefined) throw new KmsStatusError("NOT_FOUND", `CryptoKey ${name} not found.`);
      return key;
    },

    createVersion(keyName: string): VersionRecord {
      const key = store.key(keyName);
      const name = `${keyName}/cryptoKeyVersions/${key.versions.length + 1}`;
      let version: VersionRecord;
      if (key.purpose === "ENCRYPT_DECRYPT") {
        version = {
          name,
          algorithm: key.algorithm,
          state: "ENABLED",
          createTime: now(),
          secret: randomBytes(32),
        };
      } else {
        const { bits } = RSA_DECRYPT_ALGORITHMS[key.algorithm]!;
        const pair = generateKeyPairSync("rsa", { modulusLength: bits });
        const publicPem = pair.publicKey.export({ type: "spki", format: "pem" }).toString();
        version = {
          name,
          algorithm: key.algorithm,
          state: "ENABLED",
          createTime: now(),
          privateKey: pair.privateKey,
          publicPem,
        };
      }
      key.versions.push(version);
      return version;
    },

    version(name: string): { key: CryptoKeyRecord; version: VersionRecord } {
      const match = VERSION_NAME.exec(name);
      if (match === null) throw invalid(`Resource name [${name}] does not match any known format.`);
      const key = store.keys.get(match[1]!);
      const version = key?.versions[Number(match[2]) - 1];
      if (key === undefined || version === undefined) {
        throw new KmsStatusError("NOT_FOUND", `CryptoKeyVersion ${name} not found.`);
      }
      return { key, version };
    },

    /** Encrypt resolves a key name to its primary version, and accepts a version name too. */
    encryptingVersion(name: string): { key: CryptoKeyRecord; version: VersionRecord } {
      const resolved = VERSION_NAME.test(name) ? store.version(name) : undefined;
      const key = resolved?.key ?? store.key(name);
      if (key.purpose !== "ENCRYPT_DECRYPT") {
        throw invalid(`${key.name} has purpose ${key.purpose}; Encrypt needs ENCRYPT_DECRYPT.`);
      }
      const version = resolved?.version ?? key.primary;
      if (version === undefined)
        throw new KmsStatusError("FAILED_PRECONDITION", `${key.name} has no primary version.`);
      return { key, version };
    },

    setPrimary(keyName: string, versionId: string): CryptoKeyRecord {
      const key = store.key(keyName);
      if (key.purpose !== "ENCRYPT_DECRYPT") {
        throw new KmsStatusError(
          "FAILED_PRECONDITION",
          `${key.name} has purpose ${key.purpose}, which has no primary.`,
        );
      }
      const version = store.version(`${keyName}/cryptoKeyVersions/${versionId}`).version;
      requireEnabled(version);
      key.primary = version;
      return key;
    },

    setState(versionName: string, state: VersionState): VersionRecord {
      const { version } = store.version(versionName);
      if (state !== "ENABLED" && state !== "DISABLED") {
        throw invalid(`CryptoKeyVersion.state may only be set to ENABLED or DISABLED, not ${state}.`);
      }
      if (version.state !== "ENABLED" && version.state !== "DISABLED") {
        throw new KmsStatusError(
          "FAILED_PRECONDITION",
          `${version.name} is not in state ENABLED or DISABLED, current state is: ${version.state}.`,
        );
      }
      version.state = state;
      return version;
    },

    destroy(versionName: string): VersionRecord {
      const { version } = store.version(versionName);
      if (version.state === "DESTROY_SCHEDULED" || version.state === "DESTROYED") {
        throw new KmsStatusError(
          "FAILED_PRECONDITION",
          `${version.name} is already scheduled for destruction.`,
        );
      }
      version.state = "DESTROY_SCHEDULED";
      const at = Date.now() + 24 * 3600 * 1000;
      version.destroyTime = { seconds: String(Math.floor(at / 1000)), nanos: 0 };
      return version;
    },

    /** AES-256-GCM under the version's key, the AAD bound, the version recorded in clear so Decrypt can pick it. */
    sealSymmetric(key: CryptoKeyRecord, version: VersionRecord, plaintext: Buffer, aad: Buffer): Buffer {
      requireEnabled(version);
      return sealSymmetric(key.tag, key.versions.indexOf(version) + 1, version.secret!, plaintext, aad);
    },

    openSymmetric(
      key: CryptoKeyRecord,
      ciphertext: Buffer,
      aad: Buffer,
    ): { plaintext: Buffer; version: VersionRecord } {
      // Another key's ciphertext: the real service answers the same way, without naming the key.
      const number = symmetricVersionOf(key.tag, ciphertext);
      const version = number === undefined ? undefined : key.versions[number - 1];
      if (version === undefined) throw invalidCiphertext();
      requireEnabled(version);
      const plaintext = openSymmetric(version.secret!, ciphertext, aad);
      if (plaintext === undefined) throw invalidCiphertext();
      return { plaintext, version };
    },

    openAsymmetric(version: VersionRecord, ciphertext: Buffer): Buffer {
      requireEnabled(version);
      const algorithm = RSA_DECRYPT_ALGORITHMS[version.algorithm];
      if (algorithm === undefined || version.privateKey === undefined) {
        throw invalid(
          `${version.name} has algorithm ${version.algorithm}, which does not support AsymmetricDecrypt.`,
        );
      }
      const plaintext = openAsymmetric(version.privateKey, algorithm.hash, ciphertext);
      if (plaintext === undefined) throw invalidCiphertext();
      return plaintext;
    },
  };
  return store;
}

export type KeyStore = ReturnType<typeof createKeyStore>;

export function requireEnabled(version: VersionRecord): void {
  if (version.state !== "ENABLED") {
    throw new KmsStatusError(
      "FAILED_PRECONDITION",
      `${version.name} is not enabled, current state is: ${version.state}.`,
    );
  }
}

function invalid(message: string): KmsStatusError {
  return new KmsStatusError("INVALID_ARGUMENT", message);
}

const invalidCiphertext = () => invalid("Decryption failed: the ciphertext is invalid.");
