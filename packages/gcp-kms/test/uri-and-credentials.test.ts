import net from "node:net";
import { createKeyringFromUris, createKeyUriRegistry, decrypt, encrypt } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { gcpKmsUriProvider } from "../src/index.js";
import { rejection, useEmulator } from "./helpers.js";
import { guard } from "./network-guard.js";

const env = useEmulator();

describe("gcp-kms:// URIs", () => {
  it("open symmetric keys and asymmetric versions through a core registry, per-scheme options passed through", async () => {
    const registry = createKeyUriRegistry([gcpKmsUriProvider]);
    const symmetric = env.emulator.createKey();
    const asymmetric = env.emulator.createKey({ purpose: "ASYMMETRIC_DECRYPT" });
    const options = { "gcp-kms": { client: env.client("rest") } };
    const kek = await registry.open(`gcp-kms://${symmetric.name}`, options);
    expect([kek.provider, kek.keyId]).toEqual(["gcp-kms", symmetric.name]);
    const rsa = await registry.open(`gcp-kms://${asymmetric.versionName}`, options);
    expect(rsa.keyId).toBe(asymmetric.versionName);
    expect(gcpKmsUriProvider.uriFor?.(symmetric.name)).toBe(`gcp-kms://${symmetric.name}`);
    expect(registry.forProvider("gcp-kms")).toBe(gcpKmsUriProvider);
  });

  it("build a keyring from a URI list (first = primary) that encrypts and decrypts", async () => {
    const a = env.emulator.createKey();
    const b = env.emulator.createKey({ purpose: "ASYMMETRIC_DECRYPT" });
    const registry = createKeyUriRegistry([gcpKmsUriProvider]);
    const keyring = await createKeyringFromUris([`gcp-kms://${a.name}`, `gcp-kms://${b.versionName}`], {
      registry,
      providerOptions: { "gcp-kms": { client: env.client("grpc") } },
    });
    const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring, context: { k: "v" } });
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext)).toEqual(Buffer.from([1, 2, 3]));
  });

  it("reject malformed locations and unknown options with INVALID_ARGUMENT", async () => {
    const registry = createKeyUriRegistry([gcpKmsUriProvider]);
    for (const uri of [
      "gcp-kms://projects/p/locations/l",
      "gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/",
    ]) {
      expect((await rejection(registry.open(uri))).code).toBe("INVALID_ARGUMENT");
    }
    const name = env.emulator.createKey().name;
    expect(
      (await rejection(registry.open(`gcp-kms://${name}`, { "gcp-kms": { credentials: {} } }))).code,
    ).toBe("INVALID_ARGUMENT");
  });
});

describe("without credentials", () => {
  it("fails with a typed error and never tries the metadata server", async () => {
    const name = env.emulator.createKey().name;
    const registry = createKeyUriRegistry([gcpKmsUriProvider]);
    // No authClient: Application Default Credentials, which find nothing here (no env, no gcloud dir, detection off).
    const kek = await registry.open(`gcp-kms://${name}`, {
      "gcp-kms": {
        clientOptions: {
          apiEndpoint: "127.0.0.1",
          port: env.emulator.port,
          fallback: true,
          protocol: "http",
        },
      },
    });
    const error = await rejection(kek.wrap(new Uint8Array(32), {}));
    expect(error.code).toBe("KMS_ERROR");
    expect(error.message).toMatch(/default credentials/);
    // A second call tries again (the failed client was dropped) and fails the same typed way.
    expect(
      (await rejection(kek.unwrap({ provider: "gcp-kms", keyId: name, wrapped: new Uint8Array(60) }, {})))
        .code,
    ).toBe("KMS_ERROR");
    expect(guard.refused).toEqual([]);
  });

  it("the network guard itself refuses and records non-loopback connections", () => {
    expect(() => net.connect({ host: "169.254.169.254", port: 80 })).toThrow(/loopback guard/);
    expect(guard.refused).toEqual(["169.254.169.254"]);
    guard.refused.length = 0; // the deliberate attempt above is not a leak
  });
});
