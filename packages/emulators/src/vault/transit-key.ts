import {
  constants,
  createCipheriv,
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from "node:crypto";
import { badRequest, ERR_TOO_OLD } from "./transit-error.js";

/** The transit key types the emulator implements (the ones that encrypt). */
export type TransitKeyType =
  | "aes128-gcm96"
  | "aes256-gcm96"
  | "chacha20-poly1305"
  | "rsa-2048"
  | "rsa-3072"
  | "rsa-4096";

export const TRANSIT_KEY_TYPES: readonly TransitKeyType[] = [
  "aes128-gcm96",
  "aes256-gcm96",
  "chacha20-poly1305",
  "rsa-2048",
  "rsa-3072",
  "rsa-4096",
];

const isAead = (type: TransitKeyType) => !type.startsWith("rsa-");

interface KeyVersion {
  readonly created: number;
  readonly secret?: Buffer;
  readonly rsa?: { readonly publicKey: KeyObject; readonly privateKey: KeyObject };
}

/** A key as a state file keeps it. */
export interface TransitKeySnapshot {
  readonly name: string;
  readonly type: TransitKeyType;
  readonly derived: boolean;
  readonly minDecryptionVersion: number;
  readonly minEncryptionVersion: number;
  readonly deletionAllowed: boolean;
  readonly versions: readonly { readonly created: number; readonly material: string }[];
}

export interface TransitKeyConfig {
  minDecryptionVersion?: number | undefined;
  minEncryptionVersion?: number | undefined;
  deletionAllowed?: boolean | undefined;
}

/**
 * One named transit key: its versions and its config, with the keysutil
 * semantics real clients see: `vault:vN:` prefixes, HKDF-SHA256 derivation
 * (empty salt, the context as info) for derived keys, a context ignored by
 * non-derived keys, associated data only on AEAD types, RSA-OAEP-SHA256.
 */
export class TransitKey {
  readonly versions: KeyVersion[] = [];
  minDecryptionVersion = 1;
  minEncryptionVersion = 0;
  deletionAllowed = false;

  constructor(
    readonly name: string,
    readonly type: TransitKeyType,
    readonly derived: boolean,
    /** Restoring a saved key: its versions instead of a fresh first one. */
    restored?: TransitKeySnapshot,
  ) {
    if (derived && !isAead(type)) {
      throw badRequest(`key derivation and convergent encryption not supported for keys of type ${type}`);
    }
    if (restored === undefined) {
      this.rotate();
      return;
    }
    for (const version of restored.versions) {
      const material = Buffer.from(version.material, "base64");
      if (isAead(type)) {
        this.versions.push({ created: version.created, secret: material });
      } else {
        const privateKey = createPrivateKey({ key: material, format: "der", type: "pkcs8" });
        this.versions.push({
          created: version.created,
          rsa: { privateKey, publicKey: createPublicKey(privateKey) },
        });
      }
    }
    this.minDecryptionVersion = restored.minDecryptionVersion;
    this.minEncryptionVersion = restored.minEncryptionVersion;
    this.deletionAllowed = restored.deletionAllowed;
  }

  static restore(snapshot: TransitKeySnapshot): TransitKey {
    return new TransitKey(snapshot.name, snapshot.type, snapshot.derived, snapshot);
  }

  /** Everything the key holds, key material included (base64; RSA as PKCS#8 DER), for a state file. */
  snapshot(): TransitKeySnapshot {
    return {
      name: this.name,
      type: this.type,
      derived: this.derived,
      minDecryptionVersion: this.minDecryptionVersion,
      minEncryptionVersion: this.minEncryptionVersion,
      deletionAllowed: this.deletionAllowed,
      versions: this.versions.map((version) => ({
        created: version.created,
        material: (
          version.secret ?? version.rsa!.privateKey.export({ format: "der", type: "pkcs8" })
        ).toString("base64"),
      })),
    };
  }

  get latestVersion(): number {
    return this.versions.length;
  }

  rotate(): void {
    const created = Math.floor(Date.now() / 1000);
    if (isAead(this.type)) {
      this.versions.push({ created, secret: randomBytes(this.type === "aes128-gcm96" ? 16 : 32) });
    } else {
      const modulusLength = Number(this.type.slice("rsa-".length));
      this.versions.push({ created, rsa: generateKeyPairSync("rsa", { modulusLength }) });
    }
  }

  configure(config: TransitKeyConfig): void {
    const minDecrypt = config.minDecryptionVersion ?? this.minDecryptionVersion;
    const minEncrypt = config.minEncryptionVersion ?? this.minEncryptionVersion;
    if (minDecrypt > this.latestVersion) {
      throw badRequest("cannot set min decryption version to a value greater than the latest version");
    }
    if (minEncrypt > this.latestVersion) {
      throw badRequest("cannot set min encryption version to a value greater than the latest version");
    }
    if (minEncrypt !== 0 && minEncrypt < minDecrypt) {
      throw badRequest("min encryption version should not be less than min decryption version");
    }
    this.minDecryptionVersion = Math.max(1, minDecrypt);
    this.minEncryptionVersion = minEncrypt;
    if (config.deletionAllowed !== undefined) this.deletionAllowed = config.deletionAllowed;
  }

  encrypt(plaintext: Buffer, input: { context?: Buffer; associatedData?: Buffer; keyVersion?: number }) {
    const version =
      input.keyVersion === undefined || input.keyVersion === 0 ? this.latestVersion : input.keyVersion;
    if (version > this.latestVersion || version < 0) throw badRequest("invalid key version");
    if (this.minEncryptionVersion > 0 && version < this.minEncryptionVersion) {
      throw badRequest("requested version for encryption is less than the minimum encryption key version");
    }
    const entry = this.versions[version - 1]!;
    let sealed: Buffer;
    if (entry.rsa !== undefined) {
      if (input.associatedData !== undefined) throw nonAead(this.type);
      sealed = publicEncrypt(
        { key: entry.rsa.publicKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
        plaintext,
      );
    } else {
      const key = this.keyFor(entry, input.context);
      const nonce = randomBytes(12);
      const cipher = createCipheriv(this.cipherName(), key, nonce, { authTagLength: 16 });
      if (input.associatedData !== undefined) cipher.setAAD(input.associatedData);
      sealed = Buffer.concat([nonce, cipher.update(plaintext), cipher.final(), cipher.getAuthTag()]);
    }
    return { ciphertext: `vault:v${version}:${sealed.toString("base64")}`, keyVersion: version };
  }

  decrypt(ciphertext: string, input: { context?: Buffer; associatedData?: Buffer }): Buffer {
    if (!ciphertext.startsWith("vault:v")) throw badRequest("invalid ciphertext: no prefix");
    const rest = ciphertext.slice("vault:v".length);
    const colon = rest.indexOf(":");
    if (colon === -1) throw badRequest("invalid ciphertext: wrong number of fields");
    const digits = rest.slice(0, colon);
    if (!/^\d+$/.test(digits)) throw badRequest("invalid ciphertext: version number could not be decoded");
    const version = Math.max(1, Number(digits));
    if (version > this.latestVersion) throw badRequest("invalid ciphertext: version is too new");
    if (version < this.minDecryptionVersion) throw badRequest(ERR_TOO_OLD);
    const encoded = rest.slice(colon + 1);
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(encoded) || encoded.length % 4 !== 0) {
      throw badRequest("invalid ciphertext: could not decode base64");
    }
    const sealed = Buffer.from(encoded, "base64");
    const entry = this.versions[version - 1]!;
    if (entry.rsa !== undefined) {
      if (input.associatedData !== undefined) throw nonAead(this.type);
      try {
        return privateDecrypt(
          { key: entry.rsa.privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
          sealed,
        );
      } catch {
        throw badRequest("crypto/rsa: decryption error");
      }
    }
    if (sealed.length < 12 + 16) throw badRequest("invalid ciphertext length");
    const key = this.keyFor(entry, input.context);
    const decipher = createDecipheriv(this.cipherName(), key, sealed.subarray(0, 12), { authTagLength: 16 });
    decipher.setAuthTag(sealed.subarray(sealed.length - 16));
    const body = sealed.subarray(12, sealed.length - 16);
    if (input.associatedData !== undefined) decipher.setAAD(input.associatedData);
    try {
      return Buffer.concat([decipher.update(body), decipher.final()]);
    } catch {
      // Go's AEAD error texts, which Vault passes through.
      throw badRequest(
        this.type === "chacha20-poly1305"
          ? "chacha20poly1305: message authentication failed"
          : "cipher: message authentication failed",
      );
    }
  }

  /** `GET keys/:name` data, in Vault's shape. */
  describe(): Record<string, unknown> {
    const keys: Record<string, unknown> = {};
    this.versions.forEach((entry, index) => {
      const version = index + 1;
      if (version < this.minDecryptionVersion) return;
      keys[String(version)] =
        entry.rsa === undefined
          ? entry.created
          : {
              creation_time: new Date(entry.created * 1000).toISOString(),
              name: this.type,
              public_key: entry.rsa.publicKey.export({ type: "spki", format: "pem" }),
            };
    });
    return {
      name: this.name,
      type: this.type,
      derived: this.derived,
      ...(this.derived ? { kdf: "hkdf_sha256" } : {}),
      convergent_encryption: false,
      deletion_allowed: this.deletionAllowed,
      exportable: false,
      allow_plaintext_backup: false,
      imported_key: false,
      auto_rotate_period: 0,
      keys,
      latest_version: this.latestVersion,
      min_available_version: 0,
      min_decryption_version: this.minDecryptionVersion,
      min_encryption_version: this.minEncryptionVersion,
      supports_encryption: true,
      supports_decryption: true,
      supports_derivation: isAead(this.type),
      supports_signing: !isAead(this.type),
    };
  }

  /** Typed as one GCM name for the overloads; ChaCha20-Poly1305 ciphers have the same AEAD methods. */
  private cipherName(): "aes-256-gcm" {
    if (this.type === "chacha20-poly1305") return "chacha20-poly1305" as "aes-256-gcm";
    if (this.type === "aes128-gcm96") return "aes-128-gcm" as "aes-256-gcm";
    return "aes-256-gcm";
  }

  private keyFor(entry: KeyVersion, context: Buffer | undefined): Buffer {
    const secret = entry.secret!;
    // A non-derived key ignores any context it is sent, as keysutil's fast path does.
    if (!this.derived) return secret;
    if (context === undefined || context.length === 0) {
      throw badRequest(
        "missing 'context' for key derivation; the key was created using a derived key, which means additional, per-request information must be included in order to perform operations with the key",
      );
    }
    return hkdfSha256(secret, context, secret.length);
  }
}

/**
 * HKDF-SHA256 with an empty salt (RFC 5869), written out because Node's
 * hkdfSync caps `info` at 1024 bytes and Go's HKDF, which Vault uses, does not.
 */
export function hkdfSha256(secret: Buffer, info: Buffer, length: number): Buffer {
  const prk = createHmac("sha256", Buffer.alloc(32)).update(secret).digest();
  const blocks: Buffer[] = [];
  let previous = Buffer.alloc(0);
  for (let i = 1; blocks.length * 32 < length; i++) {
    previous = createHmac("sha256", prk)
      .update(previous)
      .update(info)
      .update(Buffer.from([i]))
      .digest();
    blocks.push(previous);
  }
  return Buffer.concat(blocks).subarray(0, length);
}

function nonAead(type: TransitKeyType) {
  return badRequest(`'[0].associated_data' provided for non-AEAD cipher suite ${type}`);
}
