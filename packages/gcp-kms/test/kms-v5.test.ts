import { createRequire } from "node:module";
import { inspect } from "node:util";
import type { KeyManagementServiceClient } from "@google-cloud/kms";
import { runKekConformance } from "@kms-envelope/conformance";
import { type GcpKmsEmulator, type GcpTransport, startGcpKmsEmulator } from "@kms-envelope/emulators/gcp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createGcpKmsKek } from "../src/index.js";
import { rejection } from "./helpers.js";

/**
 * The package allows @google-cloud/kms ^5 (Node 20) as well as ^6: the same
 * suite through a real v5 client (google-gax 5), installed here under an alias.
 */
const require = createRequire(import.meta.url);
const v5Entry = require.resolve("google-cloud-kms-v5");
const v5 = require(v5Entry) as typeof import("@google-cloud/kms");
const gax5 = require(require.resolve("google-gax", { paths: [v5Entry] })) as {
  grpc: { credentials: { createInsecure(): unknown } };
  googleAuthLibrary: { PassThroughClient: new () => object };
};

let emulator: GcpKmsEmulator;
const clients = {} as Record<GcpTransport, KeyManagementServiceClient>;

beforeAll(async () => {
  emulator = await startGcpKmsEmulator();
  const base = {
    apiEndpoint: emulator.apiEndpoint,
    port: emulator.port,
    authClient: new gax5.googleAuthLibrary.PassThroughClient(),
  };
  const make = (options: object) =>
    new v5.KeyManagementServiceClient(options as never) as unknown as KeyManagementServiceClient;
  clients.grpc = make({ ...base, sslCreds: gax5.grpc.credentials.createInsecure() });
  clients.rest = make({ ...base, fallback: true, protocol: "http" });
});
afterAll(async () => {
  await Promise.all(Object.values(clients).map((client) => client.close()));
  await emulator?.close();
});

it("is a 5.x client", () => {
  expect((require("google-cloud-kms-v5/package.json") as { version: string }).version).toMatch(/^5\./);
});

for (const transport of ["grpc", "rest"] as const) {
  for (const asymmetric of [false, true]) {
    const keks: Partial<Record<"kek" | "other", ReturnType<typeof createGcpKmsKek>>> = {};
    const make = () => {
      const key = emulator.createKey(asymmetric ? { purpose: "ASYMMETRIC_DECRYPT" } : {});
      return createGcpKmsKek({ name: asymmetric ? key.versionName : key.name, client: clients[transport] });
    };
    runKekConformance({
      name: `gcp-kms ${asymmetric ? "asymmetric" : "symmetric"} with @google-cloud/kms 5 (${transport})`,
      makeKeks: () => {
        keks.kek ??= make();
        keks.other ??= make();
        return { kek: keks.kek, other: keks.other };
      },
      capabilities: { abort: true, bindsContext: !asymmetric },
    });
  }

  describe(`error table with @google-cloud/kms 5 (${transport})`, () => {
    it("maps statuses like v6 does", async () => {
      const key = emulator.createKey();
      const kek = createGcpKmsKek({
        name: key.name,
        client: clients[transport],
        callOptions: { retry: null } as never,
      });
      const cases = [
        [{ kind: "throttle" }, "KMS_THROTTLED"],
        [{ kind: "unavailable" }, "KMS_UNAVAILABLE"],
        [{ kind: "status", status: "PERMISSION_DENIED" }, "KEY_ACCESS_DENIED"],
        [{ kind: "status", status: "UNAUTHENTICATED" }, "KEY_ACCESS_DENIED"],
        [{ kind: "status", status: "NOT_FOUND" }, "KEY_NOT_FOUND"],
        [{ kind: "status", status: "FAILED_PRECONDITION" }, "KEY_DISABLED"],
        [{ kind: "corrupt-request" }, "KMS_INTEGRITY"],
        [{ kind: "corrupt-response" }, "KMS_INTEGRITY"],
        // No status at all over REST (gax 5 passes on gaxios's ECONNRESET): the network failure it is.
        [{ kind: "reset" }, "KMS_UNAVAILABLE"],
      ] as const;
      for (const [fault, code] of cases) {
        emulator.faults.inject({ ...fault, operation: "Encrypt" });
        const dek = crypto.getRandomValues(new Uint8Array(32));
        const error = await rejection(kek.wrap(dek, {}));
        expect(error.code, fault.kind).toBe(code);
        // gax 5's REST errors hold the request (the DEK, base64) in their gaxios config: it must be gone.
        expect(inspect(error, { depth: 20 }), fault.kind).not.toContain(Buffer.from(dek).toString("base64"));
      }
    });

    it(
      transport === "grpc"
        ? "retries one UNAVAILABLE with the client's default policy"
        : "does not retry over REST (gax 5 keeps HTTP codes, which match no retry code): documented limitation",
      async () => {
        const key = emulator.createKey();
        const kek = createGcpKmsKek({ name: key.name, client: clients[transport] });
        emulator.faults.inject({ kind: "unavailable", operation: "Encrypt" });
        const before = emulator.calls.count("Encrypt");
        if (transport === "grpc") {
          await kek.wrap(new Uint8Array(32), {});
          expect(emulator.calls.count("Encrypt") - before).toBe(2);
        } else {
          expect((await rejection(kek.wrap(new Uint8Array(32), {}))).code).toBe("KMS_UNAVAILABLE");
          expect(emulator.calls.count("Encrypt") - before).toBe(1);
        }
      },
    );
  });
}
