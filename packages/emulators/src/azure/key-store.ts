import {
  constants,
  createCipheriv,
  createDecipheriv,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { b64, unb64 } from "../state-file.js";
import { KeyVaultHttpError } from "./http-error.js";

/** Key types the emulator creates; `oct-HSM` is a Managed HSM AES key (A256KW). */
export type EmulatedKeyType = "RSA" | "RSA-HSM" | "oct" | "oct-HSM";

export type KeyOperation = "encrypt" | "decrypt" | "sign" | "verify" | "wrapKey" | "unwrapKey";

const RSA_OPS: KeyOperation[] = ["encrypt", "decrypt", "sign", "verify", "wrapKey", "unwrapKey"];
const OCT_OPS: KeyOperation[] = ["encrypt", "decrypt", "wrapKey", "unwrapKey"];

interface KeyVersion {
  readonly version: string;
  readonly kty: EmulatedKeyType;
  readonly keyOps: KeyOperation[];
  readonly publicKey?: KeyObject;
  readonly privateKey?: KeyObject;
  /** AES-256 key bytes for oct keys: never leaves the emulator. */
  readonly secret?: Buffer;
  enabled: boolean;
  nbf?: number;
  exp?: number;
  readonly created: number;
  updated: number;
  tags: Record<string, string>;
}

interface StoredKey {
  /** The name as created: Key Vault names are case-insensitive, kids keep the creator's casing. */
  readonly name: string;
  /** Oldest first; the last one is the current version. */
  readonly versions: KeyVersion[];
}

interface DeletedKey {
  readonly key: StoredKey;
  readonly deletedDate: number;
}

export interface CreateKeyParameters {
  readonly kty: EmulatedKeyType;
  readonly keySize?: number | undefined;
  readonly keyOps?: KeyOperation[] | undefined;
  readonly enabled?: boolean | undefined;
  readonly nbf?: number | undefined;
  readonly exp?: number | undefined;
  readonly tags?: Record<string, string> | undefined;
}

export interface UpdateKeyParameters {
  readonly enabled?: boolean | undefined;
  readonly keyOps?: KeyOperation[] | undefined;
  readonly nbf?: number | undefined;
  readonly exp?: number | undefined;
  readonly tags?: Record<string, string> | undefined;
}

/** One key version as a state file holds it. */
interface SavedVersion {
  version: string;
  kty: EmulatedKeyType;
  keyOps: KeyOperation[];
  enabled: boolean;
  nbf?: number;
  exp?: number;
  created: number;
  updated: number;
  tags: Record<string, string>;
  secret?: string;
  privateKey?: string;
}

/** What a state file holds for the Key Vault emulator. */
export interface AzureKeyStoreState {
  keys: { name: string; versions: SavedVersion[] }[];
  deleted: { name: string; versions: SavedVersion[]; deletedDate: number }[];
}

function saveVersion(key: KeyVersion): SavedVersion {
  return {
    version: key.version,
    kty: key.kty,
    keyOps: [...key.keyOps],
    enabled: key.enabled,
    ...(key.nbf === undefined ? {} : { nbf: key.nbf }),
    ...(key.exp === undefined ? {} : { exp: key.exp }),
    created: key.created,
    updated: key.updated,
    tags: { ...key.tags },
    ...(key.secret === undefined ? {} : { secret: b64(key.secret) }),
    ...(key.privateKey === undefined
      ? {}
      : { privateKey: b64(key.privateKey.export({ type: "pkcs8", format: "der" })) }),
  };
}

function loadVersion(saved: SavedVersion): KeyVersion {
  const privateKey =
    saved.privateKey === undefined
      ? undefined
      : createPrivateKey({ key: unb64(saved.privateKey), format: "der", type: "pkcs8" });
  return {
    version: saved.version,
    kty: saved.kty,
    keyOps: [...saved.keyOps],
    enabled: saved.enabled,
    ...(saved.nbf === undefined ? {} : { nbf: saved.nbf }),
    ...(saved.exp === undefined ? {} : { exp: saved.exp }),
    created: saved.created,
    updated: saved.updated,
    tags: { ...saved.tags },
    ...(saved.secret === undefined ? {} : { secret: unb64(saved.secret) }),
    ...(privateKey === undefined ? {} : { privateKey, publicKey: createPublicKey(privateKey) }),
  };
}

const KEY_NAME = /^[0-9a-zA-Z-]{1,127}$/;
const RSA_SIZES = new Set([2048, 3072, 4096]);

const now = () => Math.floor(Date.now() / 1000);

/** Key Vault's state: named keys with versions, soft delete, and the wrap/unwrap crypto. */
export class KeyStore {
  private readonly keys = new Map<string, StoredKey>();
  private readonly deleted = new Map<string, DeletedKey>();

  constructor(readonly vaultUrl: string) {}

  /** The whole state as JSON-safe data (key material included), for a state file. */
  snapshot(): AzureKeyStoreState {
    return {
      // Each under the name as created; the maps are keyed by its lower case.
      keys: [...this.keys.values()].map((key) => ({
        name: key.name,
        versions: key.versions.map(saveVersion),
      })),
      deleted: [...this.deleted.values()].map((entry) => ({
        name: entry.key.name,
        versions: entry.key.versions.map(saveVersion),
        deletedDate: entry.deletedDate,
      })),
    };
  }

  /** Puts back what `snapshot` saved (into an empty store). */
  restore(state: AzureKeyStoreState): void {
    for (const key of state.keys) {
      this.keys.set(key.name.toLowerCase(), { name: key.name, versions: key.versions.map(loadVersion) });
    }
    for (const entry of state.deleted) {
      this.deleted.set(entry.name.toLowerCase(), {
        key: { name: entry.name, versions: entry.versions.map(loadVersion) },
        deletedDate: entry.deletedDate,
      });
    }
  }

  kid(name: string, version: string): string {
    return `${this.vaultUrl}/keys/${this.keys.get(name.toLowerCase())?.name ?? name}/${version}`;
  }

  create(name: string, params: CreateKeyParameters): { name: string; version: KeyVersion } {
    if (!KEY_NAME.test(name)) throw KeyVaultHttpError.badParameter(`The key name '${name}' is invalid.`);
    if (this.deleted.has(name.toLowerCase())) {
      throw new KeyVaultHttpError(
        409,
        "Conflict",
        `Key ${name} is currently in a deleted but recoverable state.`,
      );
    }
    const version = this.newVersion(params);
    const existing = this.keys.get(name.toLowerCase());
    if (existing === undefined) this.keys.set(name.toLowerCase(), { name, versions: [version] });
    else existing.versions.push(version);
    return { name, version };
  }

  /** A new version with the current version's type, size, operations and tags (what rotate does). */
  rotate(name: string): KeyVersion {
    const current = this.current(name);
    const keySize = current.publicKey?.asymmetricKeyDetails?.modulusLength;
    const version = this.newVersion({
      kty: current.kty,
      keySize,
      keyOps: [...current.keyOps],
      tags: current.tags,
    });
    this.stored(name).versions.push(version);
    return version;
  }

  versions(name: string): readonly KeyVersion[] {
    return this.stored(name).versions;
  }

  /** `version` empty means the current one. */
  get(name: string, version: string): KeyVersion {
    const stored = this.stored(name);
    if (version === "") return stored.versions.at(-1)!;
    const found = stored.versions.find((v) => v.version === version);
    if (found === undefined) {
      throw new KeyVaultHttpError(
        404,
        "KeyNotFound",
        `A key with (name/id) ${name}/${version} was not found in this key vault.`,
      );
    }
    return found;
  }

  current(name: string): KeyVersion {
    return this.get(name, "");
  }

  update(name: string, version: string, params: UpdateKeyParameters): KeyVersion {
    const key = this.get(name, version);
    if (params.enabled !== undefined) key.enabled = params.enabled;
    if (params.keyOps !== undefined) key.keyOps.splice(0, key.keyOps.length, ...params.keyOps);
    if (params.nbf !== undefined) key.nbf = params.nbf;
    if (params.exp !== undefined) key.exp = params.exp;
    if (params.tags !== undefined) key.tags = { ...params.tags };
    key.updated = now();
    return key;
  }

  delete(name: string): { version: KeyVersion; deletedDate: number } {
    const key = this.stored(name);
    this.keys.delete(name.toLowerCase());
    const deletedDate = now();
    this.deleted.set(name.toLowerCase(), { key, deletedDate });
    return { version: key.versions.at(-1)!, deletedDate };
  }

  getDeleted(name: string): { version: KeyVersion; deletedDate: number } {
    const entry = this.deleted.get(name.toLowerCase());
    if (entry === undefined)
      throw new KeyVaultHttpError(404, "KeyNotFound", `Deleted Key not found: ${name}`);
    return { version: entry.key.versions.at(-1)!, deletedDate: entry.deletedDate };
  }

  purge(name: string): void {
    if (!this.deleted.delete(name.toLowerCase()))
      throw new KeyVaultHttpError(404, "KeyNotFound", `Deleted Key not found: ${name}`);
  }

  wrap(name: string, version: string, alg: string, value: Buffer): { kid: string; value: Buffer } {
    const key = this.usable(name, version, "wrapKey");
    return { kid: this.kid(name, key.version), value: wrapWith(key, alg, value) };
  }

  unwrap(name: string, version: string, alg: string, value: Buffer): { kid: string; value: Buffer } {
    const key = this.usable(name, version, "unwrapKey");
    return { kid: this.kid(name, key.version), value: unwrapWith(key, alg, value) };
  }

  private usable(name: string, version: string, operation: KeyOperation): KeyVersion {
    const key = this.get(name, version);
    // The service's answers for a disabled, not-yet-valid or expired key, and for an operation the key does not allow.
    if (!key.enabled) {
      throw new KeyVaultHttpError(
        403,
        "Forbidden",
        `Operation ${operation} is not allowed on a disabled key.`,
        "KeyDisabled",
      );
    }
    const t = now();
    if ((key.nbf !== undefined && t < key.nbf) || (key.exp !== undefined && t > key.exp)) {
      throw new KeyVaultHttpError(
        403,
        "Forbidden",
        `Operation ${operation} is not allowed: the key is not valid at this time.`,
        "KeyExpired",
      );
    }
    if (!key.keyOps.includes(operation)) {
      throw new KeyVaultHttpError(
        403,
        "Forbidden",
        `Operation ${operation} is not permitted on this key.`,
        "KeyOperationForbidden",
      );
    }
    return key;
  }

  private stored(name: string): StoredKey {
    const stored = this.keys.get(name.toLowerCase());
    if (stored === undefined) {
      throw new KeyVaultHttpError(
        404,
        "KeyNotFound",
        `A key with (name/id) ${name} was not found in this key vault.`,
      );
    }
    return stored;
  }

  private newVersion(params: CreateKeyParameters): KeyVersion {
    const t = now();
    const base = {
      version: randomBytes(16).toString("hex"),
      kty: params.kty,
      enabled: params.enabled ?? true,
      created: t,
      updated: t,
      tags: { ...(params.tags ?? {}) },
      ...(params.nbf === undefined ? {} : { nbf: params.nbf }),
      ...(params.exp === undefined ? {} : { exp: params.exp }),
    };
    if (params.kty === "RSA" || params.kty === "RSA-HSM") {
      const modulusLength = params.keySize ?? 2048;
      if (!RSA_SIZES.has(modulusLength))
        throw KeyVaultHttpError.badParameter(`Invalid key size ${modulusLength}.`);
      const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength });
      return { ...base, keyOps: [...(params.keyOps ?? RSA_OPS)], publicKey, privateKey };
    }
    if (params.kty === "oct" || params.kty === "oct-HSM") {
      const size = params.keySize ?? 256;
      if (size !== 256)
        throw KeyVaultHttpError.badParameter(`Invalid key size ${size}: the emulator makes AES-256 keys.`);
      return { ...base, keyOps: [...(params.keyOps ?? OCT_OPS)], secret: randomBytes(32) };
    }
    throw KeyVaultHttpError.badParameter(`Key type ${String(params.kty)} is not supported.`);
  }
}

/** The public JWK members of a version, base64url as on the wire (oct keys expose no material). */
export function publicJwk(store: KeyStore, name: string, key: KeyVersion): Record<string, unknown> {
  const jwk: Record<string, unknown> = {
    kid: store.kid(name, key.version),
    kty: key.kty,
    key_ops: [...key.keyOps],
  };
  if (key.publicKey !== undefined) {
    const exported = key.publicKey.export({ format: "jwk" });
    jwk.n = exported.n;
    jwk.e = exported.e;
  }
  return jwk;
}

function wrapWith(key: KeyVersion, alg: string, value: Buffer): Buffer {
  if (key.publicKey !== undefined && alg === "RSA-OAEP-256") {
    return publicEncrypt(
      { key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      value,
    );
  }
  if (key.publicKey !== undefined && alg === "RSA-OAEP") {
    return publicEncrypt(
      { key: key.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha1" },
      value,
    );
  }
  if (key.secret !== undefined && alg === "A256KW") {
    if (value.length < 16 || value.length % 8 !== 0) {
      throw KeyVaultHttpError.badParameter("A256KW wraps keys of at least 16 bytes, in multiples of 8.");
    }
    // RFC 3394 with the default IV, as Managed HSM does.
    const cipher = createCipheriv("id-aes256-wrap", key.secret, Buffer.from("A6A6A6A6A6A6A6A6", "hex"));
    return Buffer.concat([cipher.update(value), cipher.final()]);
  }
  throw KeyVaultHttpError.badParameter(`Algorithm ${alg} is not supported for key type ${key.kty}.`);
}

function unwrapWith(key: KeyVersion, alg: string, value: Buffer): Buffer {
  try {
    if (key.privateKey !== undefined && (alg === "RSA-OAEP-256" || alg === "RSA-OAEP")) {
      const oaepHash = alg === "RSA-OAEP-256" ? "sha256" : "sha1";
      return privateDecrypt(
        { key: key.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash },
        value,
      );
    }
    if (key.secret !== undefined && alg === "A256KW") {
      const decipher = createDecipheriv("id-aes256-wrap", key.secret, Buffer.from("A6A6A6A6A6A6A6A6", "hex"));
      return Buffer.concat([decipher.update(value), decipher.final()]);
    }
  } catch {
    // The service says no more than this about a ciphertext it cannot open.
    throw KeyVaultHttpError.badParameter("The parameter is incorrect.");
  }
  throw KeyVaultHttpError.badParameter(`Algorithm ${alg} is not supported for key type ${key.kty}.`);
}

export type { KeyVersion };
