import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  randomBytes,
  randomUUID,
} from "node:crypto";
import { b64, unb64 } from "../state-file.js";
import { kmsError } from "./kms-error.js";

export type EmulatedKeySpec = "SYMMETRIC_DEFAULT" | "RSA_2048" | "RSA_3072" | "RSA_4096";
export type EmulatedKeyState = "Enabled" | "Disabled" | "PendingDeletion";

export const KEY_SPECS: readonly EmulatedKeySpec[] = [
  "SYMMETRIC_DEFAULT",
  "RSA_2048",
  "RSA_3072",
  "RSA_4096",
];

/** Key material shared by a multi-Region primary and its replicas, as in AWS. */
export interface KeyMaterial {
  readonly secret?: Buffer;
  readonly privateKey?: KeyObject;
  readonly publicKeyDer?: Buffer;
}

export interface EmulatedKey {
  readonly id: string;
  readonly arn: string;
  readonly region: string;
  readonly spec: EmulatedKeySpec;
  readonly multiRegion: boolean;
  readonly created: Date;
  readonly description: string;
  readonly material: KeyMaterial;
  state: EmulatedKeyState;
  /** For a multi-Region key: the region of its primary (its own region when it is the primary). */
  primaryRegion: string;
  deletionDate?: Date | undefined;
  pendingWindowInDays?: number | undefined;
}

export interface NewKeyOptions {
  region: string;
  spec?: EmulatedKeySpec | undefined;
  multiRegion?: boolean | undefined;
  description?: string | undefined;
}

/**
 * Keys and aliases in memory, per region (a key ARN names its region, and a
 * client only sees the keys of the region it signs for), under one account.
 */
export class KeyStore {
  readonly account: string;
  private readonly keys = new Map<string, Map<string, EmulatedKey>>();
  private readonly aliases = new Map<string, Map<string, string>>();

  constructor(account: string) {
    this.account = account;
  }

  create(options: NewKeyOptions): EmulatedKey {
    const spec = options.spec ?? "SYMMETRIC_DEFAULT";
    if (!KEY_SPECS.includes(spec))
      throw kmsError("ValidationException", `KeySpec ${spec} is not supported by the emulator.`);
    const multiRegion = options.multiRegion ?? false;
    const id = multiRegion ? `mrk-${randomBytes(16).toString("hex")}` : randomUUID();
    return this.insert(
      options.region,
      id,
      spec,
      multiRegion,
      options.description ?? "",
      generateMaterial(spec),
      options.region,
    );
  }

  /** A replica of a multi-Region primary in another region: same id, same key material. */
  replicate(primary: EmulatedKey, region: string): EmulatedKey {
    if (!primary.multiRegion || primary.primaryRegion !== primary.region) {
      throw kmsError("UnsupportedOperationException", `${primary.arn} is not a multi-Region primary key.`);
    }
    if (region === primary.region || this.keys.get(region)?.has(primary.id)) {
      throw kmsError("AlreadyExistsException", `Multi-Region key ${primary.id} already exists in ${region}.`);
    }
    return this.insert(
      region,
      primary.id,
      primary.spec,
      true,
      primary.description,
      primary.material,
      primary.region,
    );
  }

  private insert(
    region: string,
    id: string,
    spec: EmulatedKeySpec,
    multiRegion: boolean,
    description: string,
    material: KeyMaterial,
    primaryRegion: string,
    created = new Date(),
  ): EmulatedKey {
    const key: EmulatedKey = {
      id,
      arn: `arn:aws:kms:${region}:${this.account}:key/${id}`,
      region,
      spec,
      multiRegion,
      created,
      description,
      material,
      state: "Enabled",
      primaryRegion,
    };
    let regional = this.keys.get(region);
    if (regional === undefined) {
      regional = new Map();
      this.keys.set(region, regional);
    }
    regional.set(id, key);
    return key;
  }

  /** The whole state as JSON-safe data (key material included), for a state file. */
  snapshot(): AwsKeyStoreState {
    const keys: AwsKeyStoreState["keys"] = [];
    for (const regional of this.keys.values()) {
      for (const key of regional.values()) {
        keys.push({
          id: key.id,
          region: key.region,
          spec: key.spec,
          multiRegion: key.multiRegion,
          created: key.created.toISOString(),
          description: key.description,
          state: key.state,
          primaryRegion: key.primaryRegion,
          ...(key.deletionDate === undefined ? {} : { deletionDate: key.deletionDate.toISOString() }),
          ...(key.pendingWindowInDays === undefined ? {} : { pendingWindowInDays: key.pendingWindowInDays }),
          ...(key.material.secret === undefined ? {} : { secret: b64(key.material.secret) }),
          ...(key.material.privateKey === undefined
            ? {}
            : { privateKey: b64(key.material.privateKey.export({ type: "pkcs8", format: "der" })) }),
        });
      }
    }
    const aliases: AwsKeyStoreState["aliases"] = [];
    for (const [region, regional] of this.aliases) {
      for (const [name, keyId] of regional) aliases.push({ region, name, keyId });
    }
    return { account: this.account, keys, aliases };
  }

  /** Puts back what `snapshot` saved (into an empty store of the same account). */
  restore(state: AwsKeyStoreState): void {
    if (state.account !== this.account) {
      throw new Error(`the saved state is for account ${state.account}, not ${this.account}`);
    }
    for (const saved of state.keys) {
      const privateKey =
        saved.privateKey === undefined
          ? undefined
          : createPrivateKey({ key: unb64(saved.privateKey), format: "der", type: "pkcs8" });
      const material: KeyMaterial =
        privateKey === undefined
          ? { secret: unb64(saved.secret ?? "") }
          : {
              privateKey,
              publicKeyDer: createPublicKeyDer(privateKey),
            };
      const key = this.insert(
        saved.region,
        saved.id,
        saved.spec,
        saved.multiRegion,
        saved.description,
        material,
        saved.primaryRegion,
        new Date(saved.created),
      );
      key.state = saved.state;
      if (saved.deletionDate !== undefined) key.deletionDate = new Date(saved.deletionDate);
      if (saved.pendingWindowInDays !== undefined) key.pendingWindowInDays = saved.pendingWindowInDays;
    }
    for (const alias of state.aliases) {
      let regional = this.aliases.get(alias.region);
      if (regional === undefined) {
        regional = new Map();
        this.aliases.set(alias.region, regional);
      }
      regional.set(alias.name, alias.keyId);
    }
  }

  /** Every copy of a multi-Region key, primary first. */
  copies(id: string): EmulatedKey[] {
    const found: EmulatedKey[] = [];
    for (const regional of this.keys.values()) {
      const key = regional.get(id);
      if (key !== undefined) found.push(key);
    }
    return found.sort((a, b) => Number(b.region === b.primaryRegion) - Number(a.region === a.primaryRegion));
  }

  /** The key in `region` with this id, or undefined. */
  byId(region: string, id: string): EmulatedKey | undefined {
    return this.keys.get(region)?.get(id);
  }

  createAlias(region: string, aliasName: string, target: EmulatedKey): void {
    if (!/^alias\/[a-zA-Z0-9/_-]{1,250}$/.test(aliasName) || aliasName.startsWith("alias/aws/")) {
      throw kmsError("InvalidAliasNameException", `Alias name ${aliasName} is not valid.`);
    }
    let regional = this.aliases.get(region);
    if (regional === undefined) {
      regional = new Map();
      this.aliases.set(region, regional);
    }
    if (regional.has(aliasName)) {
      throw kmsError(
        "AlreadyExistsException",
        `An alias with the name ${this.aliasArn(region, aliasName)} already exists`,
      );
    }
    regional.set(aliasName, target.id);
  }

  aliasArn(region: string, aliasName: string): string {
    return `arn:aws:kms:${region}:${this.account}:${aliasName}`;
  }

  /**
   * Resolves what a request's `KeyId` may be (key id, key ARN, alias name,
   * alias ARN) to a key of the request's region, or NotFoundException.
   */
  resolve(region: string, keyId: unknown): EmulatedKey {
    if (typeof keyId !== "string" || keyId.length === 0) {
      throw kmsError(
        "ValidationException",
        "1 validation error detected: Value null at 'keyId' failed to satisfy constraint: Member must not be null",
      );
    }
    let name = keyId;
    if (keyId.startsWith("arn:")) {
      const arn = /^arn:aws[a-z-]*:kms:([a-z0-9-]+):(\d{12}):((?:key|alias)\/.+)$/.exec(keyId);
      if (arn === null) throw kmsError("NotFoundException", `Invalid arn ${keyId}`);
      if (arn[1] !== region || arn[2] !== this.account)
        throw kmsError("NotFoundException", `Key '${keyId}' does not exist`);
      name = arn[3]!;
      if (name.startsWith("key/")) name = name.slice(4);
    }
    if (name.startsWith("alias/")) {
      const target = this.aliases.get(region)?.get(name);
      const key = target === undefined ? undefined : this.byId(region, target);
      if (key === undefined)
        throw kmsError("NotFoundException", `Alias ${this.aliasArn(region, name)} is not found.`);
      return key;
    }
    const key = this.byId(region, name);
    if (key === undefined) {
      throw kmsError(
        "NotFoundException",
        `Key 'arn:aws:kms:${region}:${this.account}:key/${name}' does not exist`,
      );
    }
    return key;
  }
}

/** What a state file holds for the AWS emulator. */
export interface AwsKeyStoreState {
  account: string;
  keys: {
    id: string;
    region: string;
    spec: EmulatedKeySpec;
    multiRegion: boolean;
    created: string;
    description: string;
    state: EmulatedKeyState;
    primaryRegion: string;
    deletionDate?: string;
    pendingWindowInDays?: number;
    secret?: string;
    privateKey?: string;
  }[];
  aliases: { region: string; name: string; keyId: string }[];
}

function createPublicKeyDer(privateKey: KeyObject): Buffer {
  return createPublicKey(privateKey).export({ type: "spki", format: "der" });
}

function generateMaterial(spec: EmulatedKeySpec): KeyMaterial {
  if (spec === "SYMMETRIC_DEFAULT") return { secret: randomBytes(32) };
  const modulusLength = Number(spec.slice(4));
  const { privateKey, publicKey } = generateKeyPairSync("rsa", { modulusLength });
  return { privateKey, publicKeyDer: publicKey.export({ type: "spki", format: "der" }) };
}
