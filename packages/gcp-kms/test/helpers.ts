import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { type GcpKmsEmulator, type GcpTransport, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { afterAll, afterEach, beforeAll } from "vitest";
import { createGcpKmsKek, type GcpKmsKekOptions } from "../src/index.js";

export const TRANSPORTS: readonly GcpTransport[] = ["grpc", "rest"];

/** Starts one emulator for the file and one real client per transport, all closed afterwards. */
export function useEmulator() {
  const state = {} as { emulator: GcpKmsEmulator; clients: Record<GcpTransport, KeyManagementServiceClient> };
  beforeAll(async () => {
    state.emulator = await startGcpKmsEmulator();
    state.clients = { grpc: state.emulator.client(), rest: state.emulator.client({ transport: "rest" }) };
  });
  // A fault a test left queued must not leak into the next one.
  afterEach(() => state.emulator?.faults.clear());
  afterAll(async () => {
    await Promise.all(Object.values(state.clients ?? {}).map((client) => client.close()));
    await state.emulator?.close();
  });
  return {
    get emulator() {
      return state.emulator;
    },
    client(transport: GcpTransport) {
      return state.clients[transport];
    },
    /** A KEK on a fresh key of the emulator, through the given transport. */
    kek(transport: GcpTransport, options: Partial<GcpKmsKekOptions> & { asymmetric?: boolean } = {}) {
      const { asymmetric, ...rest } = options;
      const key = state.emulator.createKey(asymmetric === true ? { purpose: "ASYMMETRIC_DECRYPT" } : {});
      return {
        key,
        kek: createGcpKmsKek({
          name: asymmetric === true ? key.versionName : key.name,
          client: state.clients[transport],
          ...rest,
        }),
      };
    },
  };
}

export async function rejection(
  promise: Promise<unknown>,
): Promise<{ code?: string; retryable?: boolean; cause?: unknown; message: string }> {
  const result = await promise.then(
    () => undefined,
    (error: unknown) => error,
  );
  if (result === undefined) throw new Error("expected a rejection");
  return result as { code?: string; message: string };
}
