import {
  createKeyring,
  decrypt,
  type EncryptionContext,
  EnvelopeError,
  encrypt,
  type KeyEncryptionKey,
  type WrappedKeyEntry,
} from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { fromHex, loadManifest, type NegativeVector, type PositiveVector } from "./manifest.js";
import { applyMutation } from "./mutations.js";

export interface KekPair {
  /** The KEK under test. */
  readonly kek: KeyEncryptionKey;
  /** A second, distinct key of the same provider. */
  readonly other: KeyEncryptionKey;
}

export interface ConformanceCapabilities {
  /** The provider honours an AbortSignal. */
  readonly abort: boolean;
  /** The KMS itself binds the encryption context (AAD); false for e.g. Key Vault or RSA local wrap. */
  readonly bindsContext: boolean;
  /**
   * The KEK wraps the same DEK to the same bytes (RFC 3394 AES key wrap, as on Managed HSM
   * `A256KW`): the "different wrapped keys" check then asserts the opposite.
   */
  readonly deterministicWrap?: boolean;
  /** Parallel wraps and unwraps to run (default 100). */
  readonly parallelism?: number;
}

export interface KekConformanceOptions {
  readonly name: string;
  /** Called once per test; may return the same pair each time. */
  readonly makeKeks: () => KekPair | Promise<KekPair>;
  readonly capabilities: ConformanceCapabilities;
  /** Path of a test-vector manifest; defaults to the one shipped in this package. */
  readonly manifestPath?: string;
  /** Per-test timeout in ms (emulators with injected latency may need more). */
  readonly timeout?: number;
}

const CONTEXT: EncryptionContext = { purpose: "conformance", tenant: "acme" };

function freshDek(): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(32));
}

function entryOf(kek: KeyEncryptionKey, wrapped: { keyId: string; wrapped: Uint8Array }): WrappedKeyEntry {
  return { provider: kek.provider, keyId: wrapped.keyId, wrapped: wrapped.wrapped };
}

async function expectCode(promise: Promise<unknown>, codes: readonly string[]) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected a rejection").toBeInstanceOf(EnvelopeError);
  expect(codes).toContain((error as EnvelopeError).code);
  return error as EnvelopeError;
}

/**
 * Registers the behavioural suite every KEK provider must pass, plus the
 * shared test vectors re-run through a keyring built on the provider.
 * Call it at the top level of a vitest test file.
 */
export function runKekConformance(options: KekConformanceOptions): void {
  const { capabilities } = options;
  const timeout = options.timeout ?? 60_000;

  describe(`KEK conformance: ${options.name}`, () => {
    it("round trip: unwrap returns the DEK that was wrapped", { timeout }, async () => {
      const { kek } = await options.makeKeks();
      const dek = freshDek();
      const wrapped = await kek.wrap(new Uint8Array(dek), CONTEXT);
      expect(wrapped.keyId.length).toBeGreaterThan(0);
      const unwrapped = await kek.unwrap(entryOf(kek, wrapped), CONTEXT);
      expect(Buffer.from(unwrapped).equals(Buffer.from(dek))).toBe(true);
    });

    const deterministic = capabilities.deterministicWrap === true;
    it(deterministic
      ? "wrapping the same DEK twice gives the same wrapped key (deterministic wrap)"
      : "wrapping the same DEK twice gives different wrapped keys", { timeout }, async () => {
      const { kek } = await options.makeKeks();
      const dek = freshDek();
      const first = await kek.wrap(new Uint8Array(dek), CONTEXT);
      const second = await kek.wrap(new Uint8Array(dek), CONTEXT);
      expect(Buffer.from(first.wrapped).equals(Buffer.from(second.wrapped))).toBe(deterministic);
    });

    it("two keys never cross-decrypt", { timeout }, async () => {
      const { kek, other } = await options.makeKeks();
      const wrapped = await kek.wrap(freshDek(), CONTEXT);
      const entry = { ...entryOf(kek, wrapped), keyId: other.keyId };
      await expectCode(other.unwrap(entry, CONTEXT), [
        "TAMPERED",
        "KEY_ID_MISMATCH",
        "MALFORMED",
        "KMS_ERROR",
        "KEY_NOT_FOUND",
        "KEY_ACCESS_DENIED",
      ]);
      const keyring = createKeyring({ primary: kek });
      const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring, context: CONTEXT });
      await expectCode(decrypt(envelope, { keyring: createKeyring({ decryptOnly: [other] }) }), [
        "NO_USABLE_KEY",
      ]);
    });

    it("a wrong context fails", { timeout }, async () => {
      const { kek } = await options.makeKeks();
      if (capabilities.bindsContext) {
        const wrapped = await kek.wrap(freshDek(), CONTEXT);
        await expectCode(kek.unwrap(entryOf(kek, wrapped), { ...CONTEXT, tenant: "other" }), [
          "TAMPERED",
          "MALFORMED",
          "KMS_ERROR",
        ]);
      }
      // Whatever the KMS binds, the envelope's header tag binds the context.
      const keyring = createKeyring({ primary: kek });
      const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring, context: CONTEXT });
      await expectCode(decrypt(envelope, { keyring, expectedContext: { ...CONTEXT, tenant: "other" } }), [
        "CONTEXT_MISMATCH",
      ]);
    });

    it("a malformed or truncated wrapped key fails with a typed error", { timeout }, async () => {
      const { kek } = await options.makeKeks();
      const wrapped = await kek.wrap(freshDek(), CONTEXT);
      const entry = entryOf(kek, wrapped);
      const truncated = {
        ...entry,
        wrapped: entry.wrapped.subarray(0, Math.floor(entry.wrapped.length / 2)),
      };
      const flipped = new Uint8Array(entry.wrapped);
      flipped[flipped.length - 1]! ^= 0x01;
      const typed = ["TAMPERED", "MALFORMED", "KMS_ERROR", "KMS_INTEGRITY"];
      await expectCode(kek.unwrap(truncated, CONTEXT), typed);
      await expectCode(kek.unwrap({ ...entry, wrapped: flipped }, CONTEXT), typed);
      await expectCode(kek.unwrap({ ...entry, wrapped: new Uint8Array([1]) }, CONTEXT), typed);
    });

    it("errors carry no key material", { timeout }, async () => {
      const { kek, other } = await options.makeKeks();
      const dek = freshDek();
      const hex = Buffer.from(dek).toString("hex");
      const base64 = Buffer.from(dek).toString("base64");
      const wrapped = await kek.wrap(new Uint8Array(dek), CONTEXT);
      const error = await expectCode(
        other.unwrap({ ...entryOf(kek, wrapped), keyId: other.keyId }, CONTEXT),
        ["TAMPERED", "KEY_ID_MISMATCH", "MALFORMED", "KMS_ERROR", "KEY_NOT_FOUND", "KEY_ACCESS_DENIED"],
      );
      const text = `${error.message} ${String(error.cause)} ${JSON.stringify(error)}`;
      expect(text).not.toContain(hex);
      expect(text).not.toContain(base64);
    });

    const parallelism = capabilities.parallelism ?? 100;
    it(`${parallelism} parallel wraps and unwraps`, { timeout }, async () => {
      const { kek } = await options.makeKeks();
      const deks = Array.from({ length: parallelism }, freshDek);
      const wrapped = await Promise.all(deks.map((dek) => kek.wrap(new Uint8Array(dek), CONTEXT)));
      const unwrapped = await Promise.all(wrapped.map((item) => kek.unwrap(entryOf(kek, item), CONTEXT)));
      unwrapped.forEach((dek, i) => {
        expect(Buffer.from(dek).equals(Buffer.from(deks[i]!))).toBe(true);
      });
    });

    it.runIf(capabilities.abort)(
      "an aborted signal cancels wrap and unwrap with ABORTED",
      { timeout },
      async () => {
        const { kek } = await options.makeKeks();
        const wrapped = await kek.wrap(freshDek(), CONTEXT);
        const controller = new AbortController();
        controller.abort();
        await expectCode(kek.wrap(freshDek(), CONTEXT, { signal: controller.signal }), ["ABORTED"]);
        await expectCode(kek.unwrap(entryOf(kek, wrapped), CONTEXT, { signal: controller.signal }), [
          "ABORTED",
        ]);
      },
    );

    it("generateDataKey, where offered, returns a 32-byte DEK that unwraps", { timeout }, async () => {
      const { kek } = await options.makeKeks();
      if (kek.generateDataKey === undefined) return;
      const generated = await kek.generateDataKey(CONTEXT);
      expect(generated.plaintext.length).toBe(32);
      const unwrapped = await kek.unwrap(entryOf(kek, generated), CONTEXT);
      expect(Buffer.from(unwrapped).equals(Buffer.from(generated.plaintext))).toBe(true);
    });

    describeVectors(options);
  });
}

function describeVectors(options: KekConformanceOptions) {
  const manifest = loadManifest(options.manifestPath);
  const timeout = options.timeout ?? 60_000;
  const keyring = (pair: KekPair, names: readonly string[]) => {
    // Vector key names map onto the provider's two keys by their order in the manifest.
    const keks = names.map((name) =>
      manifest.keys.findIndex((key) => key.name === name) % 2 === 0 ? pair.kek : pair.other,
    );
    const [primary, ...extra] = keks;
    return createKeyring({ primary, extra });
  };
  const positives = new Map(manifest.positive.map((vector) => [vector.id, vector]));

  describe("test vectors through this provider", () => {
    it.each(manifest.positive.map((vector) => [vector.id, vector] as const))(
      "positive %s: re-encrypted and decrypted",
      { timeout },
      async (_id, vector: PositiveVector) => {
        const pair = await options.makeKeks();
        const ring = keyring(pair, vector.keys);
        const plaintext = fromHex(vector.plaintext);
        const envelope = await encrypt(plaintext, {
          keyring: ring,
          context: vector.context,
          frameLength: vector.frameLength,
        });
        const result = await decrypt(envelope, { keyring: ring, expectedContext: vector.context });
        expect(Buffer.from(result.plaintext).equals(Buffer.from(plaintext))).toBe(true);
        expect(result.header.frameLength).toBe(vector.frameLength);
      },
    );

    const portable = manifest.negative.filter((vector) => vector.portable);
    it.each(portable.map((vector) => [vector.id, vector] as const))(
      "negative %s: rejected with its code",
      { timeout },
      async (_id, vector: NegativeVector) => {
        const base = positives.get(vector.base);
        if (base === undefined) throw new Error(`vector ${vector.id} names a missing base ${vector.base}`);
        const pair = await options.makeKeks();
        const envelope = await encrypt(fromHex(base.plaintext), {
          keyring: keyring(pair, base.keys),
          context: base.context,
          frameLength: base.frameLength,
        });
        const mutated = applyMutation(envelope, vector.mutation);
        const codes = [
          vector.code,
          ...(options.capabilities.bindsContext ? [] : (vector.alternativeCodes ?? [])),
        ];
        await expectCode(
          decrypt(mutated, {
            keyring: keyring(pair, vector.decrypt.keys),
            expectedContext: vector.decrypt.expectedContext,
            limits: vector.decrypt.limits,
          }),
          codes,
        );
      },
    );
  });
}
