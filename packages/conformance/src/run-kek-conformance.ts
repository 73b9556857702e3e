import {
  createKeyring,
  decrypt,
  type EncryptionContext,
  EnvelopeError,
  type ErrorCode,
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

/**
 * What a provider declares about itself; the suite then checks each
 * declaration against the provider (not only against core). Every check
 * expects exactly one error code: the default below, with its reason, or
 * the one the provider declares (give the reason where you declare it).
 */
export interface ConformanceCapabilities {
  /** The provider honours an AbortSignal. */
  readonly abort: boolean;
  /**
   * The KMS itself binds the encryption context (AAD): unwrap under another
   * context fails (with `unwrapCodes.wrongContext`). False for e.g. Key Vault
   * or Cloud KMS RSA keys: the suite then checks that unwrap really ignores
   * the context, and that the envelope's header tag catches a changed one.
   */
  readonly bindsContext: boolean;
  /** The KEK offers `generateDataKey` (one KMS call for a fresh DEK and its wrapped form). Default false. */
  readonly generateDataKey?: boolean;
  /** The one code each unwrap failure gives, where it differs from the default. */
  readonly unwrapCodes?: UnwrapCodes;
  /**
   * The KEK wraps the same DEK to the same bytes (RFC 3394 AES key wrap, as on Managed HSM
   * `A256KW`): the "different wrapped keys" check then asserts the opposite.
   */
  readonly deterministicWrap?: boolean;
  /** Parallel wraps and unwraps to run (default 100). */
  readonly parallelism?: number;
}

export interface UnwrapCodes {
  /**
   * Bytes wrapped by another key of the same provider, handed to this key.
   * Default `TAMPERED`: the KMS cannot authenticate them under its key.
   */
  readonly foreignKey?: ErrorCode;
  /**
   * Wrapped bytes cut short (half of them, or a single byte). Default
   * `TAMPERED`: the KMS cannot authenticate them. A provider whose wrapped
   * keys have one fixed length it checks before calling the KMS declares `MALFORMED`.
   */
  readonly wrongLength?: ErrorCode;
  /** With `bindsContext`: unwrap under another context. Default `TAMPERED` (the AAD does not verify). */
  readonly wrongContext?: ErrorCode;
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

/** The one code `promise` must reject with. */
async function expectCode(promise: Promise<unknown>, code: ErrorCode) {
  const error = await promise.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(error, "expected a rejection").toBeInstanceOf(EnvelopeError);
  expect((error as EnvelopeError).code).toBe(code);
  return error as EnvelopeError;
}

/** An envelope under CONTEXT with the last byte of its context changed ("acme" → "acmd"): still canonical. */
function withChangedContext(envelope: Uint8Array): Uint8Array {
  return applyMutation(envelope, { kind: "flip", field: "context", offset: -1, bit: 0 });
}

/**
 * Registers the behavioural suite every KEK provider must pass, plus the
 * shared test vectors re-run through a keyring built on the provider.
 * Call it at the top level of a vitest test file.
 */
export function runKekConformance(options: KekConformanceOptions): void {
  const { capabilities } = options;
  const timeout = options.timeout ?? 60_000;
  const codes = {
    foreignKey: capabilities.unwrapCodes?.foreignKey ?? "TAMPERED",
    wrongLength: capabilities.unwrapCodes?.wrongLength ?? "TAMPERED",
    wrongContext: capabilities.unwrapCodes?.wrongContext ?? "TAMPERED",
  } satisfies Record<string, ErrorCode>;

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
      await expectCode(other.unwrap(entry, CONTEXT), codes.foreignKey);
      const keyring = createKeyring({ primary: kek });
      const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring, context: CONTEXT });
      // The envelope names kek: a keyring of other alone has no KEK it may try.
      const error = await expectCode(
        decrypt(envelope, { keyring: createKeyring({ decryptOnly: [other] }) }),
        "NO_USABLE_KEY",
      );
      expect(error.failures).toEqual([]);
    });

    it(capabilities.bindsContext
      ? "a wrong context fails in the KMS and in the envelope"
      : "the KMS ignores the context (as declared); the envelope's header tag catches a changed one", {
      timeout,
    }, async () => {
      const { kek } = await options.makeKeks();
      const dek = freshDek();
      const wrapped = await kek.wrap(new Uint8Array(dek), CONTEXT);
      const otherContext = { ...CONTEXT, tenant: "other" };
      if (capabilities.bindsContext) {
        await expectCode(kek.unwrap(entryOf(kek, wrapped), otherContext), codes.wrongContext);
      } else {
        const unwrapped = await kek.unwrap(entryOf(kek, wrapped), otherContext);
        expect(Buffer.from(unwrapped).equals(Buffer.from(dek)), "declared bindsContext: false").toBe(true);
      }
      const keyring = createKeyring({ primary: kek });
      const envelope = await encrypt(new Uint8Array([1, 2, 3]), { keyring, context: CONTEXT });
      // A changed context in the envelope reaches the provider: it refuses to unwrap (binding KMS),
      // or unwraps and the header tag, which covers the context, fails.
      const changed = decrypt(withChangedContext(envelope), { keyring });
      if (capabilities.bindsContext) {
        const error = await expectCode(changed, "NO_USABLE_KEY");
        expect(error.failures.map((failure) => failure.error.code)).toEqual([codes.wrongContext]);
      } else {
        const error = await expectCode(changed, "TAMPERED");
        expect(error.message.startsWith("header-tag:")).toBe(true);
      }
      // An expected context is compared before any KMS call.
      await expectCode(decrypt(envelope, { keyring, expectedContext: otherContext }), "CONTEXT_MISMATCH");
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
      await expectCode(kek.unwrap(truncated, CONTEXT), codes.wrongLength);
      await expectCode(kek.unwrap({ ...entry, wrapped: new Uint8Array([1]) }, CONTEXT), codes.wrongLength);
      // Every provider authenticates what it unwraps: one flipped bit is TAMPERED.
      await expectCode(kek.unwrap({ ...entry, wrapped: flipped }, CONTEXT), "TAMPERED");
    });

    it("errors carry no key material", { timeout }, async () => {
      const { kek, other } = await options.makeKeks();
      const dek = freshDek();
      const hex = Buffer.from(dek).toString("hex");
      const base64 = Buffer.from(dek).toString("base64");
      const wrapped = await kek.wrap(new Uint8Array(dek), CONTEXT);
      const error = await expectCode(
        other.unwrap({ ...entryOf(kek, wrapped), keyId: other.keyId }, CONTEXT),
        codes.foreignKey,
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
        await expectCode(kek.wrap(freshDek(), CONTEXT, { signal: controller.signal }), "ABORTED");
        await expectCode(
          kek.unwrap(entryOf(kek, wrapped), CONTEXT, { signal: controller.signal }),
          "ABORTED",
        );
      },
    );

    const generates = capabilities.generateDataKey === true;
    it(`${generates ? "offers" : "does not offer"} generateDataKey, as declared`, { timeout }, async () => {
      const { kek } = await options.makeKeks();
      expect(typeof kek.generateDataKey).toBe(generates ? "function" : "undefined");
    });

    it.runIf(generates)(
      "generateDataKey returns a fresh 32-byte DEK that unwraps, and encrypt uses it",
      { timeout },
      async () => {
        const { kek } = await options.makeKeks();
        const generated = await kek.generateDataKey!(CONTEXT);
        expect(generated.plaintext).toBeInstanceOf(Uint8Array);
        expect(generated.plaintext.length).toBe(32);
        const unwrapped = await kek.unwrap(entryOf(kek, generated), CONTEXT);
        expect(Buffer.from(unwrapped).equals(Buffer.from(generated.plaintext))).toBe(true);
        const again = await kek.generateDataKey!(CONTEXT);
        expect(Buffer.from(again.plaintext).equals(Buffer.from(generated.plaintext))).toBe(false);
        // Encrypt takes its DEK from generateDataKey, with no separate wrap.
        const seen: Uint8Array[] = [];
        let wraps = 0;
        const spy: KeyEncryptionKey = {
          provider: kek.provider,
          keyId: kek.keyId,
          wrap: (...args) => {
            wraps++;
            return kek.wrap(...args);
          },
          unwrap: (...args) => kek.unwrap(...args),
          generateDataKey: async (...args) => {
            const result = await kek.generateDataKey!(...args);
            seen.push(result.plaintext);
            return result;
          },
          ...(kek.matches ? { matches: (entry) => kek.matches!(entry) } : {}),
        };
        const keyring = createKeyring({ primary: spy });
        const envelope = await encrypt(new Uint8Array([7, 8, 9]), { keyring, context: CONTEXT });
        expect({ generated: seen.length, wraps }).toEqual({ generated: 1, wraps: 0 });
        const result = await decrypt(envelope, { keyring, expectedContext: CONTEXT });
        expect([...result.plaintext]).toEqual([7, 8, 9]);
      },
    );

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
        // A KEK whose KMS binds no context unwraps a changed context; the header tag then fails.
        const code = options.capabilities.bindsContext
          ? vector.code
          : (vector.alternativeCodes?.[0] ?? vector.code);
        await expectCode(
          decrypt(mutated, {
            keyring: keyring(pair, vector.decrypt.keys),
            expectedContext: vector.decrypt.expectedContext,
            limits: vector.decrypt.limits,
          }),
          code,
        );
      },
    );
  });
}
