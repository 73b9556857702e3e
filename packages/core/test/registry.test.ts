import { describe, expect, it } from "vitest";
import { createKeyUriRegistry, EnvelopeError, parseKeyList, parseKeyUri } from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

async function codeOf(promise: Promise<unknown>) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  return (error as EnvelopeError).code;
}

describe("key-URI registry", () => {
  it("opens KEKs through the provider registered for the scheme, with that scheme's options", async () => {
    const seen: unknown[] = [];
    const registry = createKeyUriRegistry([
      {
        scheme: "memory",
        provider: "memory",
        open: (location, options) => {
          seen.push([location, options]);
          return createMemoryKek(location).kek;
        },
      },
    ]);
    const kek = await registry.open("memory://key-1", { memory: { setting: 1 } });
    expect(kek.keyId).toBe("key-1");
    expect(seen).toEqual([["key-1", { setting: 1 }]]);
  });

  it("names the package to install for a known scheme that is not registered", async () => {
    const registry = createKeyUriRegistry();
    const error = await registry
      .open("aws-kms://arn:aws:kms:eu-west-1:111122223333:key/x")
      .catch((caught) => caught);
    expect(error.code).toBe("PROVIDER_NOT_INSTALLED");
    expect(error.message).toContain("@kms-envelope/aws-kms");
    expect(await codeOf(registry.open("nope://x"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(registry.open("not a uri"))).toBe("INVALID_ARGUMENT");
  });

  it("is an explicit instance: two registries share nothing", () => {
    const one = createKeyUriRegistry([
      { scheme: "memory", provider: "memory", open: () => createMemoryKek().kek },
    ]);
    expect(one.has("memory")).toBe(true);
    expect(createKeyUriRegistry().has("memory")).toBe(false);
  });

  it("parses URIs and key lists", () => {
    expect(parseKeyUri("gcp-kms://projects/p/locations/l/keyRings/r/cryptoKeys/k")).toEqual({
      scheme: "gcp-kms",
      location: "projects/p/locations/l/keyRings/r/cryptoKeys/k",
    });
    expect(parseKeyList(" local://a, local://b\nlocal://c ")).toEqual([
      "local://a",
      "local://b",
      "local://c",
    ]);
  });
});
