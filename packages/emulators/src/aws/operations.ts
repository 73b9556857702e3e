import { constants, privateDecrypt, publicEncrypt, randomBytes } from "node:crypto";
import { blobKeyId, type KmsContext, openBlob, sealBlob } from "./ciphertext.js";
import { type EmulatedKey, type EmulatedKeySpec, KEY_SPECS, type KeyStore } from "./key-store.js";
import { kmsError } from "./kms-error.js";

type Input = Record<string, unknown>;
type Output = Record<string, unknown>;
export type Operation = (store: KeyStore, region: string, input: Input) => Output;

const RSA_ALGORITHMS = ["RSAES_OAEP_SHA_1", "RSAES_OAEP_SHA_256"] as const;
type Algorithm = "SYMMETRIC_DEFAULT" | (typeof RSA_ALGORITHMS)[number];

const isRsa = (key: EmulatedKey) => key.spec !== "SYMMETRIC_DEFAULT";
const epochSeconds = (date: Date) => date.getTime() / 1000;

function string(input: Input, name: string): string | undefined {
  const value = input[name];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "string") throw kmsError("ValidationException", `${name} must be a string`);
  return value;
}

function blob(input: Input, name: string): Buffer {
  const value = input[name];
  if (typeof value !== "string" || value.length === 0) {
    throw kmsError(
      "ValidationException",
      `1 validation error detected: Value at '${lower(name)}' failed to satisfy constraint: Member must have length greater than or equal to 1`,
    );
  }
  return Buffer.from(value, "base64");
}

function context(input: Input, name: string): KmsContext {
  const value = input[name];
  if (value === undefined || value === null) return {};
  if (
    typeof value !== "object" ||
    Array.isArray(value) ||
    Object.values(value).some((v) => typeof v !== "string")
  ) {
    throw kmsError("ValidationException", `${name} must be a map of strings`);
  }
  return value as KmsContext;
}

const lower = (name: string) => name[0]!.toLowerCase() + name.slice(1);

/** Crypto operations need an enabled key; the error says why not, as AWS's does. */
function usable(key: EmulatedKey): EmulatedKey {
  if (key.state === "Disabled") throw kmsError("DisabledException", `${key.arn} is disabled.`);
  if (key.state === "PendingDeletion")
    throw kmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
  return key;
}

function algorithmFor(key: EmulatedKey, requested: string | undefined): Algorithm {
  if (!isRsa(key)) {
    if (requested !== undefined && requested !== "SYMMETRIC_DEFAULT") {
      throw kmsError(
        "InvalidKeyUsageException",
        `${key.arn} key usage is ENCRYPT_DECRYPT with SYMMETRIC_DEFAULT, not ${requested}.`,
      );
    }
    return "SYMMETRIC_DEFAULT";
  }
  if (requested === undefined || !(RSA_ALGORITHMS as readonly string[]).includes(requested)) {
    throw kmsError(
      "InvalidKeyUsageException",
      `You must specify an RSAES_OAEP encryption algorithm for ${key.arn}.`,
    );
  }
  return requested as Algorithm;
}

const oaepHash = (algorithm: Algorithm) => (algorithm === "RSAES_OAEP_SHA_1" ? "sha1" : "sha256");

function encryptWith(key: EmulatedKey, plaintext: Buffer, ctx: KmsContext, requested: string | undefined) {
  usable(key);
  const algorithm = algorithmFor(key, requested);
  if (plaintext.length === 0 || plaintext.length > 4096) {
    throw kmsError("ValidationException", "Plaintext must be between 1 and 4096 bytes.");
  }
  if (algorithm === "SYMMETRIC_DEFAULT")
    return { blob: sealBlob(key.material.secret!, key.id, plaintext, ctx), algorithm };
  if (Object.keys(ctx).length > 0) {
    throw kmsError("ValidationException", "EncryptionContext is not supported with asymmetric KMS keys.");
  }
  try {
    const padding = constants.RSA_PKCS1_OAEP_PADDING;
    return {
      blob: publicEncrypt(
        { key: key.material.privateKey!, padding, oaepHash: oaepHash(algorithm) },
        plaintext,
      ),
      algorithm,
    };
  } catch {
    throw kmsError("ValidationException", `Plaintext is too long for ${key.spec} with ${algorithm}.`);
  }
}

/** Decrypt and ReEncrypt's source half: the key that made the blob, pinned by `keyId` when given. */
function decryptWith(
  store: KeyStore,
  region: string,
  ciphertext: Buffer,
  ctx: KmsContext,
  keyId: string | undefined,
  requested: string | undefined,
) {
  const pinned = keyId === undefined ? undefined : store.resolve(region, keyId);
  if (pinned !== undefined && isRsa(pinned)) {
    usable(pinned);
    const algorithm = algorithmFor(pinned, requested);
    if (Object.keys(ctx).length > 0) {
      throw kmsError("ValidationException", "EncryptionContext is not supported with asymmetric KMS keys.");
    }
    try {
      const padding = constants.RSA_PKCS1_OAEP_PADDING;
      const plaintext = privateDecrypt(
        { key: pinned.material.privateKey!, padding, oaepHash: oaepHash(algorithm) },
        ciphertext,
      );
      return { key: pinned, plaintext, algorithm };
    } catch {
      throw kmsError("InvalidCiphertextException", "");
    }
  }
  if (requested !== undefined && requested !== "SYMMETRIC_DEFAULT") {
    // An asymmetric ciphertext needs its KeyId; without one KMS cannot tell which key to use.
    throw kmsError("InvalidCiphertextException", "");
  }
  const embedded = blobKeyId(ciphertext);
  const key = store.byId(region, embedded);
  if (pinned !== undefined && pinned.id !== embedded) {
    throw kmsError(
      "IncorrectKeyException",
      "The key ID in the request does not identify a CMK that can perform this operation.",
    );
  }
  if (key === undefined) throw kmsError("InvalidCiphertextException", "");
  usable(key);
  return {
    key,
    plaintext: openBlob(key.material.secret!, ciphertext, ctx),
    algorithm: "SYMMETRIC_DEFAULT" as Algorithm,
  };
}

export function keyMetadata(store: KeyStore, key: EmulatedKey): Output {
  const metadata: Output = {
    AWSAccountId: store.account,
    KeyId: key.id,
    Arn: key.arn,
    CreationDate: epochSeconds(key.created),
    Enabled: key.state === "Enabled",
    Description: key.description,
    KeyUsage: "ENCRYPT_DECRYPT",
    KeyState: key.state,
    Origin: "AWS_KMS",
    KeyManager: "CUSTOMER",
    CustomerMasterKeySpec: key.spec,
    KeySpec: key.spec,
    EncryptionAlgorithms: isRsa(key) ? [...RSA_ALGORITHMS] : ["SYMMETRIC_DEFAULT"],
    MultiRegion: key.multiRegion,
  };
  if (key.deletionDate !== undefined) {
    metadata.DeletionDate = epochSeconds(key.deletionDate);
    metadata.PendingDeletionWindowInDays = key.pendingWindowInDays;
  }
  if (key.multiRegion) {
    const [primary, ...replicas] = store.copies(key.id);
    const ref = (copy: EmulatedKey) => ({ Arn: copy.arn, Region: copy.region });
    metadata.MultiRegionConfiguration = {
      MultiRegionKeyType: key.region === key.primaryRegion ? "PRIMARY" : "REPLICA",
      PrimaryKey: ref(primary!),
      ReplicaKeys: replicas.map(ref),
    };
  }
  return metadata;
}

function generateDataKey(store: KeyStore, region: string, input: Input, withPlaintext: boolean): Output {
  const key = usable(store.resolve(region, input.KeyId));
  if (isRsa(key))
    throw kmsError("InvalidKeyUsageException", `${key.arn} key usage is not valid for GenerateDataKey.`);
  const spec = string(input, "KeySpec");
  const count = input.NumberOfBytes ?? (spec === "AES_128" ? 16 : spec === "AES_256" ? 32 : undefined);
  if (typeof count !== "number" || !Number.isInteger(count) || count < 1 || count > 1024) {
    throw kmsError("ValidationException", "Please specify either number of bytes or key spec.");
  }
  const plaintext = randomBytes(count);
  const output: Output = {
    CiphertextBlob: sealBlob(
      key.material.secret!,
      key.id,
      plaintext,
      context(input, "EncryptionContext"),
    ).toString("base64"),
    KeyId: key.arn,
  };
  if (withPlaintext) output.Plaintext = plaintext.toString("base64");
  return output;
}

export const OPERATIONS: Readonly<Record<string, Operation>> = {
  CreateKey(store, region, input) {
    const spec = (string(input, "KeySpec") ??
      string(input, "CustomerMasterKeySpec") ??
      "SYMMETRIC_DEFAULT") as EmulatedKeySpec;
    if (!KEY_SPECS.includes(spec))
      throw kmsError("UnsupportedOperationException", `KeySpec ${spec} is not supported by the emulator.`);
    const usage = string(input, "KeyUsage") ?? "ENCRYPT_DECRYPT";
    if (usage !== "ENCRYPT_DECRYPT")
      throw kmsError("UnsupportedOperationException", `KeyUsage ${usage} is not supported by the emulator.`);
    const key = store.create({
      region,
      spec,
      multiRegion: input.MultiRegion === true,
      description: string(input, "Description"),
    });
    return { KeyMetadata: keyMetadata(store, key) };
  },
  CreateAlias(store, region, input) {
    const name = string(input, "AliasName") ?? "";
    store.createAlias(region, name, store.resolve(region, input.TargetKeyId));
    return {};
  },
  DescribeKey(store, region, input) {
    return { KeyMetadata: keyMetadata(store, store.resolve(region, input.KeyId)) };
  },
  GenerateDataKey: (store, region, input) => generateDataKey(store, region, input, true),
  GenerateDataKeyWithoutPlaintext: (store, region, input) => generateDataKey(store, region, input, false),
  Encrypt(store, region, input) {
    const key = store.resolve(region, input.KeyId);
    const sealed = encryptWith(
      key,
      blob(input, "Plaintext"),
      context(input, "EncryptionContext"),
      string(input, "EncryptionAlgorithm"),
    );
    return {
      CiphertextBlob: sealed.blob.toString("base64"),
      KeyId: key.arn,
      EncryptionAlgorithm: sealed.algorithm,
    };
  },
  Decrypt(store, region, input) {
    const opened = decryptWith(
      store,
      region,
      blob(input, "CiphertextBlob"),
      context(input, "EncryptionContext"),
      string(input, "KeyId"),
      string(input, "EncryptionAlgorithm"),
    );
    return {
      KeyId: opened.key.arn,
      Plaintext: opened.plaintext.toString("base64"),
      EncryptionAlgorithm: opened.algorithm,
    };
  },
  ReEncrypt(store, region, input) {
    const destination = store.resolve(region, input.DestinationKeyId);
    const opened = decryptWith(
      store,
      region,
      blob(input, "CiphertextBlob"),
      context(input, "SourceEncryptionContext"),
      string(input, "SourceKeyId"),
      string(input, "SourceEncryptionAlgorithm"),
    );
    try {
      const sealed = encryptWith(
        destination,
        opened.plaintext,
        context(input, "DestinationEncryptionContext"),
        string(input, "DestinationEncryptionAlgorithm"),
      );
      return {
        CiphertextBlob: sealed.blob.toString("base64"),
        SourceKeyId: opened.key.arn,
        KeyId: destination.arn,
        SourceEncryptionAlgorithm: opened.algorithm,
        DestinationEncryptionAlgorithm: sealed.algorithm,
      };
    } finally {
      opened.plaintext.fill(0);
    }
  },
  GetPublicKey(store, region, input) {
    const key = usable(store.resolve(region, input.KeyId));
    if (!isRsa(key))
      throw kmsError("UnsupportedOperationException", `${key.arn} is a symmetric key; it has no public key.`);
    return {
      KeyId: key.arn,
      PublicKey: key.material.publicKeyDer!.toString("base64"),
      CustomerMasterKeySpec: key.spec,
      KeySpec: key.spec,
      KeyUsage: "ENCRYPT_DECRYPT",
      EncryptionAlgorithms: [...RSA_ALGORITHMS],
    };
  },
  EnableKey(store, region, input) {
    const key = store.resolve(region, input.KeyId);
    if (key.state === "PendingDeletion")
      throw kmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    key.state = "Enabled";
    return {};
  },
  DisableKey(store, region, input) {
    const key = store.resolve(region, input.KeyId);
    if (key.state === "PendingDeletion")
      throw kmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    key.state = "Disabled";
    return {};
  },
  ScheduleKeyDeletion(store, region, input) {
    const key = store.resolve(region, input.KeyId);
    const days = input.PendingWindowInDays ?? 30;
    if (typeof days !== "number" || !Number.isInteger(days) || days < 7 || days > 30) {
      throw kmsError("ValidationException", "PendingWindowInDays must be between 7 and 30.");
    }
    if (key.state === "PendingDeletion")
      throw kmsError("KMSInvalidStateException", `${key.arn} is pending deletion.`);
    key.state = "PendingDeletion";
    key.pendingWindowInDays = days;
    key.deletionDate = new Date(Date.now() + days * 86_400_000);
    return {
      KeyId: key.arn,
      DeletionDate: epochSeconds(key.deletionDate),
      KeyState: key.state,
      PendingWindowInDays: days,
    };
  },
  CancelKeyDeletion(store, region, input) {
    const key = store.resolve(region, input.KeyId);
    if (key.state !== "PendingDeletion")
      throw kmsError("KMSInvalidStateException", `${key.arn} is not pending deletion.`);
    // As in AWS, a key whose deletion is cancelled comes back disabled.
    key.state = "Disabled";
    key.deletionDate = undefined;
    key.pendingWindowInDays = undefined;
    return { KeyId: key.arn };
  },
  ReplicateKey(store, region, input) {
    const primary = store.resolve(region, input.KeyId);
    const replicaRegion = string(input, "ReplicaRegion");
    if (replicaRegion === undefined || !/^[a-z]{2}(-[a-z]+)+-\d$/.test(replicaRegion)) {
      throw kmsError("ValidationException", "ReplicaRegion must name a region.");
    }
    const replica = store.replicate(primary, replicaRegion);
    return { ReplicaKeyMetadata: keyMetadata(store, replica), ReplicaPolicy: "{}", ReplicaTags: [] };
  },
};
