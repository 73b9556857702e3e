import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  createKeyring,
  decrypt,
  EnvelopeError,
  encrypt,
  inspect,
  type KeyEncryptionKey,
} from "../src/index.js";
import { createMemoryKek } from "./support/memory-kek.js";

const context = { tenant: "acme", purpose: "test" };

async function failure(promise: Promise<unknown>): Promise<EnvelopeError> {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error).toBeInstanceOf(EnvelopeError);
  return error as EnvelopeError;
}

describe("encrypt and decrypt", () => {
  it.each([0, 1, 31, 32, 33, 1000, 70_000])("round-trips %i bytes", async (size) => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const plaintext = randomBytes(size);
    const envelope = await encrypt(plaintext, { keyring, context, frameLength: 32 });
    const result = await decrypt(envelope, { keyring, expectedContext: context });
    expect(Buffer.from(result.plaintext).equals(Buffer.from(plaintext))).toBe(true);
    expect(result.header.context).toEqual(context);
  });

  it("each extra KEK wraps the same DEK, and any one of them decrypts", async () => {
    const a = createMemoryKek("a");
    const b = createMemoryKek("b");
    const envelope = await encrypt(Buffer.from("hello"), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
      context,
    });
    expect(inspect(envelope).wrappedKeys.map((entry) => entry.keyId)).toEqual(["a", "b"]);
    const result = await decrypt(envelope, { keyring: createKeyring({ decryptOnly: [b.kek] }) });
    expect(Buffer.from(result.plaintext).toString()).toBe("hello");
    expect(result.unwrappedWith.keyId).toBe("b");
  });

  it("inspect reads the header without any KMS call", async () => {
    const { kek, calls } = createMemoryKek();
    const envelope = await encrypt(Buffer.from("x"), {
      keyring: createKeyring({ primary: kek }),
      context,
      frameLength: 4096,
    });
    const before = { ...calls };
    const info = inspect(envelope);
    expect(calls).toEqual(before);
    expect(info).toMatchObject({ version: 1, suite: 1, context, frameLength: 4096 });
    expect(info.wrappedKeys).toEqual([{ provider: "memory", keyId: "memory-1", wrappedLength: 60 }]);
  });

  it("strict by default: a KEK the keyring does not hold is never tried", async () => {
    const a = createMemoryKek("a");
    const b = createMemoryKek("b");
    const envelope = await encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: a.kek }), context });
    const error = await failure(decrypt(envelope, { keyring: createKeyring({ decryptOnly: [b.kek] }) }));
    expect(error.code).toBe("NO_USABLE_KEY");
    expect(b.calls.unwrap).toBe(0);
  });

  it("tries the next allowed KEK when one fails, and reports every failure when none succeeds", async () => {
    const a = createMemoryKek("a");
    const b = createMemoryKek("b");
    const envelope = await encrypt(Buffer.from("x"), {
      keyring: createKeyring({ primary: a.kek, extra: [b.kek] }),
      context,
    });
    const broken: KeyEncryptionKey = {
      ...a.kek,
      unwrap: async () => {
        throw new EnvelopeError("KMS_UNAVAILABLE", "down");
      },
    };
    const result = await decrypt(envelope, { keyring: createKeyring({ decryptOnly: [broken, b.kek] }) });
    expect(result.unwrappedWith.keyId).toBe("b");
    const brokenB: KeyEncryptionKey = {
      ...b.kek,
      unwrap: async () => Promise.reject(new Error("socket hang up")),
    };
    const error = await failure(
      decrypt(envelope, { keyring: createKeyring({ decryptOnly: [broken, brokenB] }) }),
    );
    expect(error.code).toBe("NO_USABLE_KEY");
    expect(error.failures.map((entry) => [entry.keyId, entry.error.code])).toEqual([
      ["a", "KMS_UNAVAILABLE"],
      ["b", "KMS_ERROR"],
    ]);
  });

  it("discovery is off by default and, when on, tries only entries its filter accepts", async () => {
    const a = createMemoryKek("a");
    const envelope = await encrypt(Buffer.from("x"), { keyring: createKeyring({ primary: a.kek }), context });
    const opened: string[] = [];
    const discovery = (accept: boolean) => ({
      filter: () => accept,
      open: (entry: { keyId: string }) => {
        opened.push(entry.keyId);
        return a.kek;
      },
    });
    expect(
      (await failure(decrypt(envelope, { keyring: createKeyring({ discovery: discovery(false) }) }))).code,
    ).toBe("NO_USABLE_KEY");
    expect(opened).toEqual([]);
    const result = await decrypt(envelope, { keyring: createKeyring({ discovery: discovery(true) }) });
    expect(Buffer.from(result.plaintext).toString()).toBe("x");
    expect(opened).toEqual(["a"]);
  });

  it("expected-context: pairs must match exactly", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(Buffer.from("x"), { keyring, context });
    for (const expectedContext of [
      { tenant: "acme" },
      { ...context, extra: "1" },
      { ...context, tenant: "evil" },
    ]) {
      expect((await failure(decrypt(envelope, { keyring, expectedContext }))).code).toBe("CONTEXT_MISMATCH");
    }
  });

  it("key-commitment: a KEK that returns another DEK is caught before any frame is opened", async () => {
    const { kek } = createMemoryKek();
    const envelope = await encrypt(Buffer.from("secret"), {
      keyring: createKeyring({ primary: kek }),
      context,
    });
    const liar: KeyEncryptionKey = { ...kek, unwrap: async () => crypto.getRandomValues(new Uint8Array(32)) };
    const error = await failure(decrypt(envelope, { keyring: createKeyring({ decryptOnly: [liar] }) }));
    expect(error.code).toBe("TAMPERED");
    expect(error.message).toMatch(/^key-commitment:/);
  });

  it("zeroes the DEK buffers handed to and received from KEKs", async () => {
    const a = createMemoryKek("a");
    const b = createMemoryKek("b");
    const keyring = createKeyring({ primary: a.kek, extra: [b.kek] });
    const envelope = await encrypt(Buffer.from("data"), { keyring, context });
    await decrypt(envelope, { keyring });
    const seen = [...a.seen, ...b.seen];
    expect(seen.length).toBe(3); // wrapped by a and b, unwrapped by a
    for (const buffer of seen) expect(buffer.every((byte) => byte === 0)).toBe(true);
  });

  it("zeroes the DEK even when decrypt fails after unwrapping", async () => {
    const a = createMemoryKek("a");
    const keyring = createKeyring({ primary: a.kek });
    const envelope = await encrypt(Buffer.from("data"), { keyring, context });
    envelope[envelope.length - 1]! ^= 1;
    await failure(decrypt(envelope, { keyring }));
    for (const buffer of a.seen) expect(buffer.every((byte) => byte === 0)).toBe(true);
  });

  it("limits: encrypt refuses more KEKs than allowed and oversized contexts", async () => {
    const keks = Array.from({ length: 3 }, (_, i) => createMemoryKek(`k${i}`).kek);
    const keyring = createKeyring({ primary: keks[0], extra: keks.slice(1) });
    expect((await failure(encrypt(Buffer.from("x"), { keyring, limits: { maxWrappedKeys: 2 } }))).code).toBe(
      "LIMIT_EXCEEDED",
    );
    expect(
      (await failure(encrypt(Buffer.from("x"), { keyring, context: { big: "x".repeat(9000) } }))).code,
    ).toBe("LIMIT_EXCEEDED");
    expect((await failure(encrypt(Buffer.from("x"), { keyring, frameLength: 0 }))).code).toBe(
      "INVALID_ARGUMENT",
    );
  });

  it("an aborted signal stops encrypt and decrypt with ABORTED", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const envelope = await encrypt(Buffer.from("x"), { keyring });
    const signal = AbortSignal.abort();
    expect((await failure(encrypt(Buffer.from("x"), { keyring, signal }))).code).toBe("ABORTED");
    expect((await failure(decrypt(envelope, { keyring, signal }))).code).toBe("ABORTED");
  });

  it("error messages never contain the plaintext or the DEK", async () => {
    const a = createMemoryKek("a");
    const keyring = createKeyring({ primary: a.kek });
    const plaintext = Buffer.from("very secret plaintext 1234567890");
    const envelope = await encrypt(plaintext, { keyring, context });
    const dekCopies: string[] = [];
    const spy: KeyEncryptionKey = {
      ...a.kek,
      unwrap: async (entry, ctx) => {
        const dek = await a.kek.unwrap(entry, ctx);
        dekCopies.push(Buffer.from(dek).toString("hex"));
        return dek;
      },
    };
    envelope[envelope.length - 20]! ^= 1;
    const error = await failure(decrypt(envelope, { keyring: createKeyring({ decryptOnly: [spy] }) }));
    const text = `${error.message} ${JSON.stringify(error)} ${String(error.cause)}`;
    expect(text).not.toContain(plaintext.toString());
    expect(text).not.toContain(plaintext.toString("hex"));
    for (const dek of dekCopies) expect(text).not.toContain(dek);
  });

  it("accepts the armored form wherever it accepts bytes", async () => {
    const { kek } = createMemoryKek();
    const keyring = createKeyring({ primary: kek });
    const { armor } = await import("../src/index.js");
    const text = armor(await encrypt(Buffer.from("armored"), { keyring }));
    expect(Buffer.from((await decrypt(text, { keyring })).plaintext).toString()).toBe("armored");
    expect(inspect(Buffer.from(text)).version).toBe(1);
  });
});
