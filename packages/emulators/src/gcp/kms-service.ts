import { setTimeout as sleep } from "node:timers/promises";
import { crc32c } from "@node-rs/crc32";
import type { CallCounter } from "../faults.js";
import type { GcpFault, GcpFaultController } from "./gcp-faults.js";
import {
  type CryptoKeyRecord,
  type KeyStore,
  type Purpose,
  requireEnabled,
  type Timestamp,
  type VersionRecord,
  type VersionState,
} from "./key-store.js";
import { KmsStatusError } from "./status.js";

/**
 * The transport-neutral KeyManagementService: requests and responses in the
 * object shape @grpc/proto-loader produces (camelCase, bytes as Buffer, int64
 * as strings, enums as names, wrappers as `{ value }`). The gRPC server hands
 * them over as they come; the REST server converts proto3 JSON to and from it.
 */
// biome-ignore lint/suspicious/noExplicitAny: wire objects are untyped here, checked field by field.
export type Wire = Record<string, any>;

/** What the transport does for a "reset" fault: drop the connection carrying the call. */
export interface CallTransport {
  drop(): void;
}

/** A denied permission, optionally only on resources whose name starts with `resource`. */
export interface DenyRule {
  readonly permission?: string;
  readonly resource?: string;
}

const PERMISSIONS: Readonly<Record<string, string>> = {
  CreateKeyRing: "cloudkms.keyRings.create",
  GetKeyRing: "cloudkms.keyRings.get",
  CreateCryptoKey: "cloudkms.cryptoKeys.create",
  GetCryptoKey: "cloudkms.cryptoKeys.get",
  UpdateCryptoKeyPrimaryVersion: "cloudkms.cryptoKeys.update",
  CreateCryptoKeyVersion: "cloudkms.cryptoKeyVersions.create",
  GetCryptoKeyVersion: "cloudkms.cryptoKeyVersions.get",
  UpdateCryptoKeyVersion: "cloudkms.cryptoKeyVersions.update",
  DestroyCryptoKeyVersion: "cloudkms.cryptoKeyVersions.destroy",
  GetPublicKey: "cloudkms.cryptoKeyVersions.viewPublicKey",
  Encrypt: "cloudkms.cryptoKeyVersions.useToEncrypt",
  Decrypt: "cloudkms.cryptoKeyVersions.useToDecrypt",
  AsymmetricDecrypt: "cloudkms.cryptoKeyVersions.useToDecrypt",
};

export const IMPLEMENTED_METHODS = Object.keys(PERMISSIONS);

/** Cloud KMS caps Encrypt's plaintext and AAD at 64 KiB each. */
const MAX_DATA = 64 * 1024;

export interface KmsServiceOptions {
  readonly store: KeyStore;
  readonly faults: GcpFaultController;
  readonly calls: CallCounter;
  readonly denied: DenyRule[];
  /** Called after every RPC that changed state (for the state file). */
  readonly onChange?: (() => void) | undefined;
}

/** RPCs that change no state. */
const READ_ONLY = new Set([
  "GetKeyRing",
  "GetCryptoKey",
  "GetCryptoKeyVersion",
  "GetPublicKey",
  "Encrypt",
  "Decrypt",
  "AsymmetricDecrypt",
]);

export function createKmsService(options: KmsServiceOptions) {
  const { store, faults, calls, denied } = options;

  const handlers: Record<string, (request: Wire, fault: GcpFault | undefined) => Wire> = {
    CreateKeyRing: (r) => {
      const name = store.createKeyRing(str(r.parent), str(r.keyRingId));
      return keyRingObject(name, store.keyRing(name));
    },
    GetKeyRing: (r) => keyRingObject(str(r.name), store.keyRing(str(r.name))),
    CreateCryptoKey: (r) => {
      const template = r.cryptoKey?.versionTemplate;
      const key = store.createCryptoKey(
        str(r.parent),
        str(r.cryptoKeyId),
        (r.cryptoKey?.purpose ?? "ENCRYPT_DECRYPT") as Purpose,
        template?.algorithm === undefined || template.algorithm === "CRYPTO_KEY_VERSION_ALGORITHM_UNSPECIFIED"
          ? undefined
          : String(template.algorithm),
        { skipInitialVersion: r.skipInitialVersionCreation === true, labels: r.cryptoKey?.labels ?? {} },
      );
      return cryptoKeyObject(key);
    },
    GetCryptoKey: (r) => cryptoKeyObject(store.key(str(r.name))),
    CreateCryptoKeyVersion: (r) => versionObject(store.createVersion(str(r.parent))),
    GetCryptoKeyVersion: (r) => versionObject(store.version(str(r.name)).version),
    UpdateCryptoKeyPrimaryVersion: (r) =>
      cryptoKeyObject(store.setPrimary(str(r.name), str(r.cryptoKeyVersionId))),
    UpdateCryptoKeyVersion: (r) => {
      const paths: string[] = r.updateMask?.paths ?? [];
      if (paths.length !== 1 || paths[0] !== "state") {
        throw new KmsStatusError("INVALID_ARGUMENT", "This emulator updates only the field mask [state].");
      }
      const version = r.cryptoKeyVersion ?? {};
      return versionObject(store.setState(str(version.name), version.state as VersionState));
    },
    DestroyCryptoKeyVersion: (r) => versionObject(store.destroy(str(r.name))),
    GetPublicKey: (r, fault) => {
      const { version } = store.version(str(r.name));
      if (version.publicPem === undefined) {
        throw new KmsStatusError("FAILED_PRECONDITION", `${version.name} is not an asymmetric key version.`);
      }
      requireEnabled(version);
      const pem = version.publicPem;
      return {
        name: version.name,
        pem: fault?.kind === "corrupt-response" ? flipPem(pem) : pem,
        pemCrc32c: crcOf(Buffer.from(pem)),
        algorithm: version.algorithm,
        protectionLevel: "SOFTWARE",
        publicKeyFormat: "PEM",
      };
    },
    Encrypt: (r, fault) => {
      const plaintext = bytes(r.plaintext, fault);
      const aad = bytes(r.additionalAuthenticatedData);
      if (plaintext.length > MAX_DATA) throw invalidArgument("The plaintext must be at most 65536 bytes.");
      if (aad.length > MAX_DATA)
        throw invalidArgument("The additional_authenticated_data must be at most 65536 bytes.");
      checkCrc(plaintext, r.plaintextCrc32c, "plaintext_crc32c", "plaintext");
      checkCrc(
        aad,
        r.additionalAuthenticatedDataCrc32c,
        "additional_authenticated_data_crc32c",
        "additional_authenticated_data",
      );
      const { key, version } = store.encryptingVersion(str(r.name));
      const ciphertext = store.sealSymmetric(key, version, plaintext, aad);
      const verified = fault?.kind !== "unverified";
      return {
        name: fault?.kind === "wrong-name" ? `${key.name}-other/cryptoKeyVersions/1` : version.name,
        ciphertext: fault?.kind === "corrupt-response" ? flip(ciphertext) : ciphertext,
        ciphertextCrc32c: crcOf(ciphertext),
        verifiedPlaintextCrc32c: verified && r.plaintextCrc32c !== undefined && r.plaintextCrc32c !== null,
        verifiedAdditionalAuthenticatedDataCrc32c:
          verified &&
          r.additionalAuthenticatedDataCrc32c !== undefined &&
          r.additionalAuthenticatedDataCrc32c !== null,
        protectionLevel: "SOFTWARE",
      };
    },
    Decrypt: (r, fault) => {
      const key = store.key(str(r.name));
      if (key.purpose !== "ENCRYPT_DECRYPT") {
        throw invalidArgument(`${key.name} has purpose ${key.purpose}; Decrypt needs ENCRYPT_DECRYPT.`);
      }
      const ciphertext = bytes(r.ciphertext, fault);
      const aad = bytes(r.additionalAuthenticatedData);
      checkCrc(ciphertext, r.ciphertextCrc32c, "ciphertext_crc32c", "ciphertext");
      checkCrc(
        aad,
        r.additionalAuthenticatedDataCrc32c,
        "additional_authenticated_data_crc32c",
        "additional_authenticated_data",
      );
      const { plaintext, version } = store.openSymmetric(key, ciphertext, aad);
      return {
        plaintext: fault?.kind === "corrupt-response" ? flip(plaintext) : plaintext,
        plaintextCrc32c: crcOf(plaintext),
        usedPrimary: version === key.primary,
        protectionLevel: "SOFTWARE",
      };
    },
    AsymmetricDecrypt: (r, fault) => {
      const { version } = store.version(str(r.name));
      const ciphertext = bytes(r.ciphertext, fault);
      checkCrc(ciphertext, r.ciphertextCrc32c, "ciphertext_crc32c", "ciphertext");
      const plaintext = store.openAsymmetric(version, ciphertext);
      return {
        plaintext: fault?.kind === "corrupt-response" ? flip(plaintext) : plaintext,
        plaintextCrc32c: crcOf(plaintext),
        verifiedCiphertextCrc32c:
          fault?.kind !== "unverified" && r.ciphertextCrc32c !== undefined && r.ciphertextCrc32c !== null,
        protectionLevel: "SOFTWARE",
      };
    },
  };

  function checkPermission(method: string, request: Wire): void {
    const permission = PERMISSIONS[method]!;
    const resource = String(request.name ?? request.parent ?? request.cryptoKeyVersion?.name ?? "");
    for (const rule of denied) {
      if (rule.permission !== undefined && rule.permission !== permission) continue;
      if (rule.resource !== undefined && !resource.startsWith(rule.resource)) continue;
      throw new KmsStatusError(
        "PERMISSION_DENIED",
        `Permission '${permission}' denied on resource '${resource}' (or it may not exist).`,
      );
    }
  }

  return {
    /** Runs one RPC: counts it, applies the next queued fault, checks IAM, then answers. */
    async call(method: string, request: Wire, transport: CallTransport): Promise<Wire> {
      calls.record(method);
      const handler = handlers[method];
      if (handler === undefined) {
        throw new KmsStatusError(
          "UNIMPLEMENTED",
          `Method ${method} is not implemented by the Cloud KMS emulator.`,
        );
      }
      const fault = faults.take(method);
      switch (fault?.kind) {
        case "throttle":
          throw new KmsStatusError(
            "RESOURCE_EXHAUSTED",
            "Quota exceeded for quota metric 'Cryptographic requests' and limit 'Cryptographic requests per minute'.",
          );
        case "unavailable":
          throw new KmsStatusError("UNAVAILABLE", "The service is currently unavailable.");
        case "status":
          throw new KmsStatusError(
            fault.status ?? "INTERNAL",
            fault.message ?? `Injected ${fault.status ?? "INTERNAL"}.`,
          );
        case "reset":
          transport.drop();
          throw new KmsStatusError("UNAVAILABLE", "Connection dropped by the emulator.");
        case "latency":
          await sleep(fault.delayMs ?? 1000);
          break;
        default:
          break;
      }
      checkPermission(method, request);
      const response = handler(request, fault);
      if (!READ_ONLY.has(method)) options.onChange?.();
      return response;
    },
  };
}

function str(value: unknown): string {
  return typeof value === "string" ? value : "";
}

function bytes(value: unknown, fault?: GcpFault): Buffer {
  const data = Buffer.isBuffer(value)
    ? value
    : value instanceof Uint8Array
      ? Buffer.from(value)
      : Buffer.alloc(0);
  // Corruption on the way in: the service sees other bytes than the client checksummed.
  return fault?.kind === "corrupt-request" && data.length > 0 ? flip(data) : data;
}

function crcOf(data: Buffer): Wire {
  return { value: String(crc32c(data)) };
}

/** As the real service: a checksum that is present must match, else INVALID_ARGUMENT naming both fields. */
function checkCrc(data: Buffer, checksum: Wire | undefined | null, field: string, dataField: string): void {
  if (checksum === undefined || checksum === null) return;
  if (String(checksum.value ?? "0") !== String(crc32c(data))) {
    throw invalidArgument(`The checksum in field ${field} did not match the data in field ${dataField}.`);
  }
}

function flip(data: Buffer): Buffer {
  const copy = Buffer.from(data);
  copy[copy.length >> 1]! ^= 0x01;
  return copy;
}

function flipPem(pem: string): string {
  const at = pem.indexOf("\n") + 10;
  return pem.slice(0, at) + (pem[at] === "A" ? "B" : "A") + pem.slice(at + 1);
}

function invalidArgument(message: string): KmsStatusError {
  return new KmsStatusError("INVALID_ARGUMENT", message);
}

function keyRingObject(name: string, createTime: Timestamp): Wire {
  return { name, createTime };
}

function versionObject(version: VersionRecord): Wire {
  return {
    name: version.name,
    state: version.state,
    protectionLevel: "SOFTWARE",
    algorithm: version.algorithm,
    createTime: version.createTime,
    ...(version.destroyTime === undefined ? {} : { destroyTime: version.destroyTime }),
  };
}

function cryptoKeyObject(key: CryptoKeyRecord): Wire {
  return {
    name: key.name,
    purpose: key.purpose,
    createTime: key.createTime,
    labels: key.labels,
    versionTemplate: { protectionLevel: "SOFTWARE", algorithm: key.algorithm },
    ...(key.primary === undefined ? {} : { primary: versionObject(key.primary) }),
  };
}
