import { createKeyring, EnvelopeError, type KeyEncryptionKey } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { loadCorpus } from "../src/corpus.js";
import { classify, runCase } from "../src/oracle.js";

/** The property tests can fail: each kind of violation is caught by the oracle they use. */
const corpus = loadCorpus();
const armored = corpus.sources.findIndex((source) => source.armored !== undefined);
/** A line break inserted in the middle of an armored envelope: the armor decoder skips it. */
const testCase = {
  operation: "decrypt-armored" as const,
  source: armored,
  mutation: { kind: "insert" as const, at: 0.5, bytes: Uint8Array.of(0x0a) },
  chunking: [7],
  withExpectedContext: false,
};

describe("the oracle", () => {
  it("accepts a damage code, and flags an untyped throw, a code outside the set and a bad failure inside NO_USABLE_KEY", () => {
    expect(classify(new EnvelopeError("TAMPERED", "frame-tag")).violation).toBeUndefined();
    expect(classify(new TypeError("x is undefined")).violation).toMatch(/^untyped throw/);
    expect(classify(new EnvelopeError("KMS_ERROR", "?")).violation).toMatch(/^code KMS_ERROR/);
    const failures = [{ provider: "local", keyId: "k", error: new EnvelopeError("KMS_ERROR", "?") }];
    expect(classify(new EnvelopeError("NO_USABLE_KEY", "none", { failures })).violation).toMatch(
      /^failure code/,
    );
  });

  it("a line break inserted in armor is harmless; the same case with a wrong expected plaintext is a violation", async () => {
    expect(await runCase(testCase, corpus)).toEqual({ result: "ok" });
    const lying = {
      ...corpus,
      sources: corpus.sources.map((source, index) =>
        index === armored ? { ...source, plaintext: Buffer.from("something else") } : source,
      ),
    };
    expect((await runCase(testCase, lying)).violation).toBe("armored decrypt released other plaintext");
  });

  it("a KEK that never answers is a hang", async () => {
    const stuck: KeyEncryptionKey = {
      provider: "local",
      keyId: "vector-k1",
      wrap: () => new Promise(() => undefined),
      unwrap: () => new Promise(() => undefined),
    };
    const outcome = await runCase(testCase, { ...corpus, keyring: createKeyring({ primary: stuck }) }, 200);
    expect(outcome.violation).toBe("hang: no result in 200 ms");
  });
});
