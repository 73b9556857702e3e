import { constants, generateKeyPairSync, privateDecrypt } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  abortSignalOption,
  checkClientSettings,
  checkDataKey,
  checkEntryOwner,
  checkReportedKey,
  checkWrappedKey,
  createKeyring,
  createKmsCaller,
  createOwnedClient,
  createPromiseCache,
  decrypt,
  EnvelopeError,
  encrypt,
  isEnvelopeError,
  isLoopbackUrl,
  type KeyEncryptionKey,
  readOpenOptions,
  rsaOaepWrap,
  stripRequestData,
  toEnvelopeError,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

async function failure(promise: Promise<unknown>): Promise<EnvelopeError> {
  try {
    await promise;
  } catch (error) {
    if (isEnvelopeError(error)) return error;
    throw error;
  }
  throw new Error("expected a failure");
}

function sdkError(name: string, fields: Record<string, unknown> = {}): Error {
  return Object.assign(Object.assign(new Error(`${name} happened`), { name }), fields);
}

const table = (error: unknown) =>
  (error as Error).name === "Denied"
    ? { code: "KEY_ACCESS_DENIED" as const, detail: "Denied" }
    : (error as Error).name === "Busy"
      ? { code: "KMS_THROTTLED" as const, retryable: false }
      : undefined;

describe("EnvelopeError brand", () => {
  it("isEnvelopeError recognises an error from another copy of core by its Symbol.for brand", () => {
    // What a second copy's class produces: another constructor, the same registered symbol.
    const foreign = Object.assign(new Error("disabled"), {
      name: "EnvelopeError",
      code: "KEY_DISABLED",
      [Symbol.for("kms-envelope.EnvelopeError")]: true,
    });
    expect(foreign instanceof EnvelopeError).toBe(false);
    expect(isEnvelopeError(foreign)).toBe(true);
    expect(isEnvelopeError(foreign, "KEY_DISABLED")).toBe(true);
    expect(isEnvelopeError(foreign, "KMS_ERROR")).toBe(false);
    // toEnvelopeError keeps it as it is, code and all.
    expect(toEnvelopeError(foreign, "KMS_ERROR", "x")).toBe(foreign);
  });

  it("a look-alike without the brand, or with an unknown code, is not an EnvelopeError", () => {
    expect(
      isEnvelopeError(Object.assign(new Error("x"), { name: "EnvelopeError", code: "KEY_DISABLED" })),
    ).toBe(false);
    const unknownCode = { code: "NOPE", [Symbol.for("kms-envelope.EnvelopeError")]: true };
    expect(isEnvelopeError(unknownCode)).toBe(false);
    expect(isEnvelopeError(new EnvelopeError("KEY_DISABLED", "x"))).toBe(true);
  });
});

describe("createKmsCaller", () => {
  const call = createKmsCaller({ service: "Test KMS", classify: table });

  it("classifies an SDK error through the provider's table, naming service, operation and key", async () => {
    const error = await failure(
      call("Encrypt", "key-1", undefined, async () => Promise.reject(sdkError("Denied"))),
    );
    expect(error.code).toBe("KEY_ACCESS_DENIED");
    expect(error.message).toBe("Test KMS Encrypt with key-1 failed: Denied");
    expect((error.cause as Error).name).toBe("Denied");
  });

  it("takes the table's retryable over the code's default, and an unknown error is KMS_ERROR", async () => {
    const busy = await failure(call("Encrypt", "k", undefined, async () => Promise.reject(sdkError("Busy"))));
    expect([busy.code, busy.retryable]).toEqual(["KMS_THROTTLED", false]);
    const odd = await failure(call("Encrypt", "k", undefined, async () => Promise.reject(sdkError("Odd"))));
    expect([odd.code, odd.retryable]).toEqual(["KMS_ERROR", false]);
  });

  it("passes an EnvelopeError thrown inside the call unchanged", async () => {
    const own = new EnvelopeError("KEY_ID_MISMATCH", "other key");
    expect(await failure(call("Decrypt", "k", undefined, async () => Promise.reject(own)))).toBe(own);
  });

  it("does not start once the signal has fired", async () => {
    let started = false;
    const error = await failure(
      call("Encrypt", "k", AbortSignal.abort(), async () => {
        started = true;
      }),
    );
    expect([error.code, started]).toEqual(["ABORTED", false]);
  });

  it("returns ABORTED at once when the signal fires mid-call, even if the SDK ignores it", async () => {
    const controller = new AbortController();
    const pending = call("Decrypt", "k", controller.signal, () => new Promise(() => undefined));
    controller.abort();
    expect((await failure(pending)).code).toBe("ABORTED");
  });

  it("hands the SDK the caller's signal, and an SDK AbortError is ABORTED", async () => {
    const controller = new AbortController();
    const pending = call("Decrypt", "k", controller.signal, (signal) => {
      expect(signal).toBe(controller.signal);
      return new Promise((_, reject) =>
        signal?.addEventListener("abort", () => reject(sdkError("AbortError", { config: { data: "DEK" } }))),
      );
    });
    controller.abort();
    const error = await failure(pending);
    expect(error.code).toBe("ABORTED");
    expect(JSON.stringify(error.cause)).not.toContain("DEK");
  });

  it("abandons a call past its deadline as KMS_UNAVAILABLE, retryable", async () => {
    const slow = createKmsCaller({ service: "Test KMS", classify: table, deadlineMs: 20 });
    const error = await failure(slow("Encrypt", "k", undefined, () => new Promise(() => undefined)));
    expect([error.code, error.retryable]).toEqual(["KMS_UNAVAILABLE", true]);
    expect(error.message).toContain("within 20 ms");
  });

  it("refuses a deadline that is not a positive integer", () => {
    expect(() => createKmsCaller({ service: "x", classify: table, deadlineMs: 0 })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });
});

describe("stripRequestData", () => {
  it("drops request and response data along the whole cause chain, keeping what a caller acts on", () => {
    const inner = sdkError("GaxiosError", { config: { data: "plaintext=REQUESTDEK" }, status: 403 });
    const outer = sdkError("RestError", {
      code: 7,
      details: "denied",
      response: { body: "x" },
      cause: inner,
    });
    Object.defineProperty(outer, "request", { value: { body: "REQUESTDEK" }, enumerable: false });
    const copy = stripRequestData(outer) as Error & Record<string, unknown>;
    expect(copy).not.toBe(outer);
    expect([copy.name, copy.message, copy.code, copy.details]).toEqual([
      "RestError",
      outer.message,
      7,
      "denied",
    ]);
    expect((copy.cause as Record<string, unknown>).status).toBe(403);
    expect(JSON.stringify({ ...copy, cause: { ...(copy.cause as object) } })).not.toContain("REQUESTDEK");
    expect(copy.request).toBeUndefined();
    // The SDK's own object is left alone.
    expect((outer as unknown as Record<string, unknown>).response).toEqual({ body: "x" });
  });

  it("returns non-errors unchanged", () => {
    expect(stripRequestData("text")).toBe("text");
  });
});

describe("createPromiseCache", () => {
  it("shares one load between concurrent callers and keeps the value", async () => {
    let loads = 0;
    const cache = createPromiseCache(async (key: string) => {
      loads++;
      return `${key}!`;
    });
    expect(await Promise.all([cache.get("a"), cache.get("a")])).toEqual(["a!", "a!"]);
    expect(await cache.get("a")).toBe("a!");
    expect([loads, cache.peek("a"), cache.peek("b")]).toEqual([1, "a!", undefined]);
  });

  it("forgets a failed load so the next caller tries again", async () => {
    let loads = 0;
    const cache = createPromiseCache(async () => {
      loads++;
      if (loads === 1) throw new EnvelopeError("KMS_THROTTLED", "slow down");
      return 42;
    });
    expect((await failure(cache.get("k"))).code).toBe("KMS_THROTTLED");
    expect(await cache.get("k")).toBe(42);
    expect(loads).toBe(2);
  });

  it("reloads after ttlMs, and clear() forgets everything", async () => {
    let loads = 0;
    const cache = createPromiseCache(async () => ++loads, { ttlMs: 0 });
    await cache.get("k");
    await cache.get("k");
    expect(loads).toBe(2);
    const forever = createPromiseCache(async () => ++loads);
    await forever.get("k");
    forever.clear();
    await forever.get("k");
    expect(loads).toBe(4);
  });

  it("one caller's signal ends only its own wait; the shared load carries on for the others", async () => {
    let release: (value: string) => void = () => undefined;
    const cache = createPromiseCache(() => new Promise<string>((resolve) => (release = resolve)));
    const controller = new AbortController();
    const first = cache.get("k", controller.signal);
    const second = cache.get("k");
    await Promise.resolve();
    controller.abort();
    expect((await failure(first)).code).toBe("ABORTED");
    release("value");
    expect(await second).toBe("value");
  });
});

describe("checks", () => {
  it("checkDataKey accepts 32 bytes and turns any other length into KMS_INTEGRITY, zeroing it", () => {
    const good = new Uint8Array(32);
    expect(checkDataKey(good, "x")).toBe(good);
    const short = new Uint8Array(16).fill(7);
    const error = (() => {
      try {
        checkDataKey(short, "Test KMS Decrypt");
      } catch (caught) {
        return caught as EnvelopeError;
      }
      throw new Error("expected a failure");
    })();
    expect(error.code).toBe("KMS_INTEGRITY");
    expect(short.every((byte) => byte === 0)).toBe(true);
    expect(() => checkDataKey(undefined, "x")).toThrow(expect.objectContaining({ code: "KMS_INTEGRITY" }));
  });

  it("checkEntryOwner and checkReportedKey refuse another key as KEY_ID_MISMATCH", () => {
    const kek = { provider: "p", keyId: "k" };
    expect(() => checkEntryOwner(kek, { provider: "p", keyId: "k" })).not.toThrow();
    expect(() => checkEntryOwner(kek, { provider: "p", keyId: "other" })).toThrow(
      expect.objectContaining({ code: "KEY_ID_MISMATCH" }),
    );
    expect(() => checkEntryOwner(kek, { provider: "q", keyId: "k" })).toThrow(
      expect.objectContaining({ code: "KEY_ID_MISMATCH" }),
    );
    const caseless = (a: string, b: string) => a.toLowerCase() === b.toLowerCase();
    expect(() => checkEntryOwner(kek, { provider: "p", keyId: "K" }, caseless)).not.toThrow();
    expect(() => checkReportedKey("S", "Encrypt", "k", "k")).not.toThrow();
    expect(() => checkReportedKey("S", "Encrypt", undefined, "k")).toThrow(
      expect.objectContaining({ code: "KEY_ID_MISMATCH" }),
    );
  });

  it("core refuses a KEK's wrong-length data key as KMS_INTEGRITY (unwrap and generateDataKey)", async () => {
    const memory = createMemoryKek("short");
    const envelope = await encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: memory.kek }) });
    const short: KeyEncryptionKey = { ...memory.kek, unwrap: async () => new Uint8Array(16) };
    const error = await failure(decrypt(envelope, { keyring: createKeyring({ primary: short }) }));
    expect(error.code).toBe("NO_USABLE_KEY");
    expect(error.failures.map((entry) => entry.error.code)).toEqual(["KMS_INTEGRITY"]);
    const generator: KeyEncryptionKey = {
      ...memory.kek,
      generateDataKey: async () => ({
        keyId: "short",
        wrapped: new Uint8Array(60),
        plaintext: new Uint8Array(31),
      }),
    };
    const generated = await failure(
      encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: generator }) }),
    );
    expect(generated.code).toBe("KMS_INTEGRITY");
  });
});

describe("readOpenOptions and isLoopbackUrl", () => {
  const spec = {
    region: "string",
    maxAttempts: "number",
    client: "object",
    grantTokens: "string[]",
  } as const;

  it("returns the options typed by the spec", () => {
    const read = readOpenOptions("test", { region: "eu", maxAttempts: 2, grantTokens: ["a"] }, spec);
    expect(read).toEqual({ region: "eu", maxAttempts: 2, grantTokens: ["a"] });
  });

  it("refuses an unknown name or a wrong kind as INVALID_ARGUMENT", () => {
    expect(() => readOpenOptions("test", { regoin: "eu" }, spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining('"regoin"') }),
    );
    expect(() => readOpenOptions("test", { maxAttempts: "2" }, spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => readOpenOptions("test", { client: null }, spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => readOpenOptions("test", { grantTokens: [1] }, spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => readOpenOptions("test", "x", spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("isLoopbackUrl accepts only this machine", () => {
    for (const url of [
      "http://127.0.0.1:4000",
      "https://localhost",
      "http://[::1]:9/x",
      "http://127.9.9.9",
    ]) {
      expect(isLoopbackUrl(url), url).toBe(true);
    }
    for (const url of [
      "https://kms.eu-west-1.amazonaws.com",
      "http://127.0.0.1.evil.com",
      "not a url",
      "http://10.0.0.1",
    ]) {
      expect(isLoopbackUrl(url), url).toBe(false);
    }
  });
});

describe("readOpenOptions kinds: lists of strings, anyOf, typed by the options type", () => {
  interface Options {
    retryMode?: "standard" | "adaptive" | undefined;
    credential?: "default" | "cli" | { getToken(): unknown } | undefined;
    region?: string | undefined;
  }
  const spec = {
    retryMode: ["standard", "adaptive"],
    credential: { anyOf: [["default", "cli"], "object"] },
    region: "string",
  } as const;

  it("accepts a listed string, or any alternative of anyOf, typed as the options type", () => {
    const token = { getToken: () => "t" };
    const read: Partial<Options> = readOpenOptions<Options>(
      "test",
      { retryMode: "adaptive", credential: token },
      spec,
    );
    expect(read).toEqual({ retryMode: "adaptive", credential: token });
    expect(readOpenOptions<Options>("test", { credential: "cli" }, spec)).toEqual({ credential: "cli" });
  });

  it("refuses a string not listed, or a value that fits no alternative, naming what it may be", () => {
    expect(() => readOpenOptions<Options>("test", { retryMode: "legacy" }, spec)).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: 'test provider option "retryMode" must be one of "standard", "adaptive"',
      }),
    );
    expect(() => readOpenOptions<Options>("test", { credential: "browser" }, spec)).toThrow(
      expect.objectContaining({
        code: "INVALID_ARGUMENT",
        message: 'test provider option "credential" must be one of "default", "cli" or an object',
      }),
    );
    expect(() => readOpenOptions<Options>("test", { credential: 3 }, spec)).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
  });

  it("a spec entry that is no kind is the caller's INVALID_ARGUMENT, not a TypeError", () => {
    expect(() => readOpenOptions("test", { a: "x" }, { a: "text" as never })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("spec.a") }),
    );
    expect(() => readOpenOptions("test", { a: "x" }, { a: { anyOf: [7] } as never })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT", message: expect.stringContaining("spec.a") }),
    );
  });
});

describe("checkClientSettings", () => {
  const invalid = (message: string) => expect.objectContaining({ code: "INVALID_ARGUMENT", message });

  it("refuses settings of a created client next to an injected one, naming those given", () => {
    expect(() =>
      checkClientSettings({
        settings: { endpoint: "https://kms.example", profile: undefined, maxAttempts: 2 },
        injected: true,
      }),
    ).toThrow(
      invalid("endpoint, maxAttempts configure a created client: set them on the client you pass instead"),
    );
    expect(checkClientSettings({ settings: { endpoint: undefined }, injected: true })).toBeUndefined();
  });

  it("returns the parsed endpoint: https://, or http:// only on loopback", () => {
    expect(checkClientSettings({ settings: {}, endpoint: "https://kms.example:8443" })?.port).toBe("8443");
    expect(checkClientSettings({ settings: {}, endpoint: "http://127.0.0.1:4000" })?.hostname).toBe(
      "127.0.0.1",
    );
    expect(checkClientSettings({ settings: {}, endpoint: "http://[::1]:4000" })?.protocol).toBe("http:");
    expect(() => checkClientSettings({ settings: {}, endpoint: "http://kms.example" })).toThrow(
      invalid('endpoint "http://kms.example" must be https:// (plain http:// only on loopback)'),
    );
    expect(() => checkClientSettings({ settings: {}, endpoint: "ftp://127.0.0.1" })).toThrow(
      expect.objectContaining({ code: "INVALID_ARGUMENT" }),
    );
    expect(() => checkClientSettings({ settings: {}, endpoint: "kms.example" })).toThrow(
      invalid('endpoint "kms.example" is not a URL'),
    );
  });

  it("accepts insecureTestCredentials only with a loopback endpoint", () => {
    const refused = invalid("insecureTestCredentials needs a loopback endpoint (an emulator)");
    expect(() => checkClientSettings({ settings: {}, insecureTestCredentials: true })).toThrow(refused);
    expect(() =>
      checkClientSettings({ settings: {}, endpoint: "https://kms.example", insecureTestCredentials: true }),
    ).toThrow(refused);
    expect(() =>
      checkClientSettings({
        settings: {},
        endpoint: "https://127.0.0.1.evil.example",
        insecureTestCredentials: true,
      }),
    ).toThrow(refused);
    expect(
      checkClientSettings({ settings: {}, endpoint: "https://localhost:9", insecureTestCredentials: true })
        ?.host,
    ).toBe("localhost:9");
    expect(checkClientSettings({ settings: {}, insecureTestCredentials: false })).toBeUndefined();
  });
});

describe("checkWrappedKey and abortSignalOption", () => {
  it("checkWrappedKey passes some bytes (exactly `length` when given), else KMS_INTEGRITY", () => {
    const bytes = new Uint8Array(40);
    expect(checkWrappedKey(bytes, "Acme Encrypt")).toBe(bytes);
    expect(checkWrappedKey(bytes, "Acme Encrypt", 40)).toBe(bytes);
    expect(() => checkWrappedKey(undefined, "Acme Encrypt")).toThrow(
      expect.objectContaining({ code: "KMS_INTEGRITY", message: "Acme Encrypt returned no wrapped key" }),
    );
    expect(() => checkWrappedKey(new Uint8Array(0), "Acme Encrypt")).toThrow(
      expect.objectContaining({ code: "KMS_INTEGRITY" }),
    );
    expect(() => checkWrappedKey(bytes, "Acme Encrypt", 256)).toThrow(
      expect.objectContaining({
        code: "KMS_INTEGRITY",
        message: "Acme Encrypt returned 40 wrapped bytes, not 256",
      }),
    );
  });

  it("abortSignalOption leaves the option out without a signal", () => {
    const signal = new AbortController().signal;
    expect(abortSignalOption(undefined)).toEqual({});
    expect(Object.hasOwn(abortSignalOption(undefined), "abortSignal")).toBe(false);
    expect(abortSignalOption(signal)).toEqual({ abortSignal: signal });
  });
});

describe("rsaOaepWrap", () => {
  const { publicKey, privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });

  it.each(["sha1", "sha256", "sha512"])("wraps with RSA-OAEP/%s, which the private key opens", (hash) => {
    const dek = new Uint8Array(32).fill(7);
    const wrapped = rsaOaepWrap(publicKey, dek, hash);
    expect(wrapped).toBeInstanceOf(Uint8Array);
    expect(wrapped.length).toBe(256);
    const opened = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash },
      wrapped,
    );
    expect(new Uint8Array(opened)).toEqual(dek);
    // OAEP is randomised: the same DEK never wraps to the same bytes twice.
    expect(rsaOaepWrap(publicKey, dek, hash)).not.toEqual(wrapped);
  });

  it("defaults to SHA-256, and refuses what is not an RSA public key, bytes or a known hash", () => {
    const wrapped = rsaOaepWrap(publicKey, new Uint8Array(32));
    const opened = privateDecrypt(
      { key: privateKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: "sha256" },
      wrapped,
    );
    expect(opened.length).toBe(32);
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).publicKey;
    for (const call of [
      () => rsaOaepWrap(privateKey, new Uint8Array(32)),
      () => rsaOaepWrap(ec, new Uint8Array(32)),
      () => rsaOaepWrap(publicKey, "dek" as never),
      () => rsaOaepWrap(publicKey, new Uint8Array(32), "md5"),
    ]) {
      expect(call).toThrow(expect.objectContaining({ code: "INVALID_ARGUMENT" }));
    }
  });
});

describe("createOwnedClient", () => {
  interface Client {
    id: number;
    closed: boolean;
  }
  const setup = (injected?: Client) => {
    let made = 0;
    let failNext = false;
    const owned = createOwnedClient<Client>(
      injected,
      async () => {
        if (failNext) {
          failNext = false;
          throw new Error("no credentials");
        }
        made += 1;
        return { id: made, closed: false };
      },
      (client) => {
        client.closed = true;
      },
    );
    return { owned, made: () => made, failOnce: () => (failNext = true) };
  };

  it("creates one client on first use, shared by concurrent callers; close() closes it and the next use makes another", async () => {
    const { owned, made } = setup();
    const [a, b] = await Promise.all([owned.get(), owned.get()]);
    expect(a).toBe(b);
    expect(made()).toBe(1);
    await owned.close();
    expect(a.closed).toBe(true);
    const c = await owned.get();
    expect(c.id).toBe(2);
    expect(c.closed).toBe(false);
  });

  it("a failed creation is not kept: the next use tries again", async () => {
    const { owned, failOnce } = setup();
    failOnce();
    await expect(owned.get()).rejects.toThrow("no credentials");
    expect((await owned.get()).id).toBe(1);
  });

  it("an injected client is returned as it is and never closed", async () => {
    const mine: Client = { id: 99, closed: false };
    const { owned, made } = setup(mine);
    expect(await owned.get()).toBe(mine);
    await owned.close();
    expect(mine.closed).toBe(false);
    expect(made()).toBe(0);
  });
});
