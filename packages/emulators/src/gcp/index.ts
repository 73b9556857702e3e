import type { AddressInfo } from "node:net";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { type CallCounter, createCallCounter } from "../faults.js";
import { holdIdleConnections } from "../keep-alive.js";
import { persistStore } from "../state-file.js";
import {
  createEmulatorClient,
  type EmulatorClientOptions,
  emulatorClientOptions,
  type GcpTransport,
} from "./emulator-client.js";
import { createFrontListener } from "./front-listener.js";
import { createGcpFaultController, type GcpFault, type GcpFaultController } from "./gcp-faults.js";
import { startGrpcServer } from "./grpc-server.js";
import { createKeyStore, type Purpose, type VersionState } from "./key-store.js";
import { createKmsService, type DenyRule } from "./kms-service.js";
import { loadKmsProtos } from "./protos.js";
import { createRestServer } from "./rest-server.js";

export type { GcpFaultKind } from "./gcp-faults.js";
export { KmsStatusError, STATUS, type StatusName } from "./status.js";
export type { DenyRule, EmulatorClientOptions, GcpFault, GcpFaultController, GcpTransport, VersionState };

export interface StartGcpKmsEmulatorOptions {
  /** Loopback port for both gRPC and REST; 0 (the default) picks a free one. */
  port?: number;
  /**
   * Key rings, keys and versions are loaded from this JSON file when it
   * exists and saved to it after every change, so they survive a restart.
   * It holds key material in clear (0600): development only.
   */
  stateFile?: string | undefined;
}

export interface CreateKeyOptions {
  project?: string;
  location?: string;
  /** Created when missing. */
  keyRing?: string;
  /** The crypto key id; a fresh one when absent. */
  id?: string;
  /** "ENCRYPT_DECRYPT" (default) or "ASYMMETRIC_DECRYPT". */
  purpose?: Purpose;
  /** For ASYMMETRIC_DECRYPT: e.g. "RSA_DECRYPT_OAEP_2048_SHA256" (the default). */
  algorithm?: string;
}

export interface CreatedKey {
  /** `projects/…/cryptoKeys/…`: the name a symmetric KEK is configured with. */
  readonly name: string;
  /** `…/cryptoKeyVersions/1`: the name an asymmetric KEK is configured with. */
  readonly versionName: string;
  readonly purpose: Purpose;
  readonly algorithm: string;
}

export interface GcpKmsEmulator {
  /** "127.0.0.1": pass as the client's `apiEndpoint`. */
  readonly apiEndpoint: string;
  readonly port: number;
  /** Faults the next matching calls suffer (by RPC name: "Encrypt", "Decrypt", "GetPublicKey", …). */
  readonly faults: GcpFaultController;
  /** Calls received per RPC name, faulted ones included. */
  readonly calls: CallCounter;
  /** A real KeyManagementServiceClient wired to this emulator over gRPC (default) or REST. */
  client(options?: EmulatorClientOptions): KeyManagementServiceClient;
  /** The constructor options `client()` uses, to build a client yourself (or hand to a KEK factory). */
  clientOptions(transport?: GcpTransport): EmulatorClientOptions;
  /** Creates a key (and its key ring when missing) directly in the emulator's state. */
  createKey(options?: CreateKeyOptions): CreatedKey;
  /** Adds a version to a symmetric key and makes it primary; returns the new version's name. */
  rotateKey(keyName: string): string;
  /** Enables or disables a key version. */
  setVersionState(versionName: string, state: "ENABLED" | "DISABLED"): void;
  /** Denies a permission (every one when absent) on resources whose name starts with `resource`; returns an undo. */
  deny(rule?: DenyRule): () => void;
  close(): Promise<void>;
}

/**
 * A wire-level Cloud KMS on loopback: gRPC (KeyManagementService from the
 * protos @google-cloud/kms ships) and the REST fallback's HTTP/JSON mapping,
 * on the same port, over shared key state. Symmetric ciphertexts embed their
 * key version, so Decrypt works across rotations as in the real service.
 */
export async function startGcpKmsEmulator(options: StartGcpKmsEmulatorOptions = {}): Promise<GcpKmsEmulator> {
  const definition = loadKmsProtos();
  const store = createKeyStore();
  const save = persistStore(store, options.stateFile, "gcp-kms");
  const faults = createGcpFaultController();
  const calls = createCallCounter();
  const denied: DenyRule[] = [];
  const kms = createKmsService({ store, faults, calls, denied, onChange: save });
  const rest = holdIdleConnections(createRestServer(definition, kms));
  let dropGrpc = () => {};
  const grpc = await startGrpcServer(definition, kms, () => dropGrpc());
  const front = createFrontListener(rest, grpc.port);
  dropGrpc = front.dropGrpc;
  await new Promise<void>((resolve, reject) => {
    front.server.once("error", reject);
    front.server.listen(options.port ?? 0, "127.0.0.1", () => resolve());
  });
  const port = (front.server.address() as AddressInfo).port;
  const apiEndpoint = "127.0.0.1";
  let counter = 0;

  return {
    apiEndpoint,
    port,
    faults,
    calls,
    client: (clientOptions) => createEmulatorClient(apiEndpoint, port, clientOptions),
    clientOptions: (transport) => emulatorClientOptions(apiEndpoint, port, transport),
    createKey(keyOptions = {}) {
      const parent = `projects/${keyOptions.project ?? "test-project"}/locations/${keyOptions.location ?? "global"}`;
      const ringId = keyOptions.keyRing ?? "test-ring";
      const ringName = `${parent}/keyRings/${ringId}`;
      if (!store.keyRings.has(ringName)) store.createKeyRing(parent, ringId);
      const purpose = keyOptions.purpose ?? "ENCRYPT_DECRYPT";
      const algorithm =
        keyOptions.algorithm ??
        (purpose === "ASYMMETRIC_DECRYPT" ? "RSA_DECRYPT_OAEP_2048_SHA256" : undefined);
      const key = store.createCryptoKey(
        ringName,
        keyOptions.id ?? `key-${++counter}-${Date.now()}`,
        purpose,
        algorithm,
      );
      save();
      return {
        name: key.name,
        versionName: key.versions[0]!.name,
        purpose: key.purpose,
        algorithm: key.algorithm,
      };
    },
    rotateKey(keyName) {
      const version = store.createVersion(keyName);
      store.setPrimary(keyName, version.name.slice(version.name.lastIndexOf("/") + 1));
      save();
      return version.name;
    },
    setVersionState(versionName, state) {
      store.setState(versionName, state);
      save();
    },
    deny(rule = {}) {
      denied.push(rule);
      return () => {
        const index = denied.indexOf(rule);
        if (index !== -1) denied.splice(index, 1);
      };
    },
    async close() {
      faults.clear();
      front.destroyAll();
      await new Promise<void>((resolve) => front.server.close(() => resolve()));
      rest.close();
      grpc.server.forceShutdown();
    },
  };
}
