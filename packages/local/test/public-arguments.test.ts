import { generateKeyPairSync, randomBytes } from "node:crypto";
import * as core from "@kms-envelope/core";
import * as format from "@kms-envelope/core/format";
import { describe, expect, it } from "vitest";
import * as local from "../src/index.js";

// Issue #10, defect 7: every public entry validates its arguments. A caller's mistake is an
// EnvelopeError with code INVALID_ARGUMENT, never a TypeError from deep inside. One table for
// every function (and class) core's two entries (`.` and `./format`) and local's createLocalKek
// export; an export missing from both the table and the exclusions fails the last test, so a
// new export needs its row.

const rsaPublic = generateKeyPairSync("rsa", { modulusLength: 2048 }).publicKey;
const kek = local.createLocalKek({ key: randomBytes(32), keyId: "arguments" });
const keyring = core.createKeyring({ primary: kek });
const envelope = await core.encrypt(new Uint8Array(3), { keyring });
const registry = core.createKeyUriRegistry();
const sink = { begin: () => undefined, ciphertext: () => undefined, end: () => undefined };

type Call = () => unknown;

const TABLE: Record<string, Record<string, Call>> = {
  canonicalContextBytes: {
    "(undefined)": () => core.canonicalContextBytes(undefined as never),
    "(null)": () => core.canonicalContextBytes(null as never),
    '("s")': () => core.canonicalContextBytes("s" as never),
    "({ a: 1 })": () => core.canonicalContextBytes({ a: 1 } as never),
  },
  checkExpectedContext: {
    "(undefined, {})": () => core.checkExpectedContext(undefined as never, {}),
    "({}, null)": () => core.checkExpectedContext({}, null as never),
    "({}, { a: 1 })": () => core.checkExpectedContext({}, { a: 1 } as never),
  },
  secureRandom: {
    "(undefined)": () => core.secureRandom(undefined as never),
    '("s")': () => core.secureRandom("s" as never),
  },
  decrypt: {
    "(env)": () => core.decrypt(envelope, undefined as never),
    "(env, {})": () => core.decrypt(envelope, {} as never),
    "(env, null)": () => core.decrypt(envelope, null as never),
    "(env, { keyring, expectedContext: null })": () =>
      core.decrypt(envelope, { keyring, expectedContext: null as never }),
    "(env, { keyring, expectedContext: { a: 1 } })": () =>
      core.decrypt(envelope, { keyring, expectedContext: { a: 1 } as never }),
    "(env, { keyring: {} })": () => core.decrypt(envelope, { keyring: {} as never }),
    '(env, { keyring, limits: "x" })': () => core.decrypt(envelope, { keyring, limits: "x" as never }),
    "(env, { keyring, limits: { bogus: 1 } })": () =>
      core.decrypt(envelope, { keyring, limits: { bogus: 1 } as never }),
    '(env, { keyring, signal: "x" })': () => core.decrypt(envelope, { keyring, signal: "x" as never }),
    "(undefined, { keyring })": () => core.decrypt(undefined as never, { keyring }),
    "(42, { keyring })": () => core.decrypt(42 as never, { keyring }),
  },
  encrypt: {
    "(undefined, { keyring })": () => core.encrypt(undefined as never, { keyring }),
    '("s", { keyring })': () => core.encrypt("s" as never, { keyring }),
    "(pt)": () => core.encrypt(new Uint8Array(1), undefined as never),
    "(pt, {})": () => core.encrypt(new Uint8Array(1), {} as never),
    "(pt, { keyring, context: null })": () =>
      core.encrypt(new Uint8Array(1), { keyring, context: null as never }),
    "(pt, { keyring, context: { a: 1 } })": () =>
      core.encrypt(new Uint8Array(1), { keyring, context: { a: 1 } as never }),
    '(pt, { keyring, frameLength: "1" })': () =>
      core.encrypt(new Uint8Array(1), { keyring, frameLength: "1" as never }),
    "(pt, { keyring, frameLength: 0 })": () => core.encrypt(new Uint8Array(1), { keyring, frameLength: 0 }),
    "(pt, { keyring, signal: 1 })": () => core.encrypt(new Uint8Array(1), { keyring, signal: 1 as never }),
    "(pt, { keyring, limits: null })": () =>
      core.encrypt(new Uint8Array(1), { keyring, limits: null as never }),
  },
  throwIfAborted: {
    '("x")': () => core.throwIfAborted("x" as never),
    "(null)": () => core.throwIfAborted(null as never),
    "({})": () => core.throwIfAborted({} as never),
  },
  toEnvelopeError: {
    '(error, "BOGUS", "m")': () => core.toEnvelopeError(new Error("x"), "BOGUS" as never, "m"),
    '(error, "KMS_ERROR", undefined)': () =>
      core.toEnvelopeError(new Error("x"), "KMS_ERROR", undefined as never),
  },
  ArmorDecoder: {
    "new ().push(42)": () => new core.ArmorDecoder().push(42 as never),
    "new ().finish() twice": () => {
      const decoder = new core.ArmorDecoder();
      decoder.finish("kmse1:");
      decoder.finish();
    },
  },
  armor: {
    '("s")': () => core.armor("s" as never),
    "(undefined)": () => core.armor(undefined as never),
  },
  dearmor: {
    "(undefined)": () => core.dearmor(undefined as never),
    "(42)": () => core.dearmor(42 as never),
  },
  inspect: {
    "(undefined)": () => core.inspect(undefined as never),
    "(env, null)": () => core.inspect(envelope, null as never),
    '(env, { limits: "x" })': () => core.inspect(envelope, { limits: "x" as never }),
  },
  createKeyring: {
    "(undefined)": () => core.createKeyring(undefined as never),
    "(null)": () => core.createKeyring(null as never),
    '({ primary, extra: "x" })': () => core.createKeyring({ primary: kek, extra: "x" as never }),
    "({ primary: {} })": () => core.createKeyring({ primary: {} as never }),
    "({ decryptOnly: [null] })": () => core.createKeyring({ decryptOnly: [null as never] }),
    "({ discovery: {} })": () => core.createKeyring({ discovery: {} as never }),
    "({ primary, cache: {} })": () => core.createKeyring({ primary: kek, cache: {} as never }),
    '({ primary, cachePartition: "" })': () => core.createKeyring({ primary: kek, cachePartition: "" }),
    "({ primary, onEvent: 1 })": () => core.createKeyring({ primary: kek, onEvent: 1 as never }),
    '({ primary, kms: "x" })': () => core.createKeyring({ primary: kek, kms: "x" as never }),
    "({ primary, kms: { callTimeoutMs: -1 } })": () =>
      core.createKeyring({ primary: kek, kms: { callTimeoutMs: -1 } }),
    "({ primary, kms: { rateLimit: { requestsPerSecond: 0 } } })": () =>
      core.createKeyring({ primary: kek, kms: { rateLimit: { requestsPerSecond: 0 } } }),
    "({ primary, kms: { retry: { maxAttempts: 0 } } })": () =>
      core.createKeyring({ primary: kek, kms: { retry: { maxAttempts: 0 } } }),
    '({ primary, kms: { unreachableExtras: "x" } })': () =>
      core.createKeyring({ primary: kek, kms: { unreachableExtras: "x" as never } }),
  },
  createDataKeyCache: {
    "(undefined)": () => core.createDataKeyCache(undefined as never),
    "({})": () => core.createDataKeyCache({}),
    "({ encrypt: { maxAgeMs: 1, maxMessages: 1 } })": () =>
      core.createDataKeyCache({ encrypt: { maxAgeMs: 1, maxMessages: 1 } as never }),
    "({ encrypt: { maxAgeMs: Infinity, … } })": () =>
      core.createDataKeyCache({
        encrypt: { maxAgeMs: Number.POSITIVE_INFINITY, maxMessages: 1, maxBytes: 1 },
      }),
    "({ decrypt: { ttlMs: 1, capacity: 0 } })": () =>
      core.createDataKeyCache({ decrypt: { ttlMs: 1, capacity: 0 } }),
    '({ decrypt: { ttlMs: 1, capacity: 1 }, onEvent: "x" })': () =>
      core.createDataKeyCache({ decrypt: { ttlMs: 1, capacity: 1 }, onEvent: "x" as never }),
  },
  parseRetryAfter: {
    '("1", NaN)': () => core.parseRetryAfter("1", Number.NaN),
    '("1", "x")': () => core.parseRetryAfter("1", "x" as never),
  },
  createKeyringFromUris: {
    "(undefined, { registry })": () => core.createKeyringFromUris(undefined as never, { registry }),
    "([1], { registry })": () => core.createKeyringFromUris([1 as never], { registry }),
    '(["local://a"])': () => core.createKeyringFromUris(["local://a"], undefined as never),
    '(["local://a"], {})': () => core.createKeyringFromUris(["local://a"], {} as never),
  },
  createKeyUriRegistry: {
    '("x")': () => core.createKeyUriRegistry("x" as never),
    "([null])": () => core.createKeyUriRegistry([null as never]),
    "([{}])": () => core.createKeyUriRegistry([{} as never]),
    "().register({ scheme: 'Bad' })": () =>
      registry.register({ scheme: "Bad", provider: "x", open: () => kek } as never),
    '().open("local://a", "x")': () => registry.open("local://a", "x" as never),
  },
  parseKeyList: {
    "(undefined)": () => core.parseKeyList(undefined as never),
    "(1)": () => core.parseKeyList(1 as never),
  },
  parseKeyUri: {
    "(undefined)": () => core.parseKeyUri(undefined as never),
    '("no-scheme")': () => core.parseKeyUri("no-scheme"),
  },
  rewrap: {
    "(env)": () => core.rewrap(envelope, undefined as never),
    "(env, { to })": () => core.rewrap(envelope, { to: keyring } as never),
    "(env, { from })": () => core.rewrap(envelope, { from: keyring } as never),
    '(env, { from, to: { add: "x" } })': () =>
      core.rewrap(envelope, { from: keyring, to: { add: "x" as never } }),
    "(env, { from, to: { remove: [1] } })": () =>
      core.rewrap(envelope, { from: keyring, to: { remove: [1 as never] } }),
    "(env, { from, to, expectedContext: null })": () =>
      core.rewrap(envelope, { from: keyring, to: keyring, expectedContext: null as never }),
    "(undefined, { from, to })": () => core.rewrap(undefined as never, { from: keyring, to: keyring }),
  },
  encryptStream: {
    "()": () => core.encryptStream(undefined as never),
    "({})": () => core.encryptStream({} as never),
    "({ keyring, context: null })": () => core.encryptStream({ keyring, context: null as never }),
  },
  encryptWebStream: {
    "()": () => core.encryptWebStream(undefined as never),
    "({})": () => core.encryptWebStream({} as never),
  },
  decryptStream: {
    "()": () => core.decryptStream(undefined as never),
    "({})": () => core.decryptStream({} as never),
    "({ keyring, expectedContext: null })": () =>
      core.decryptStream({ keyring, expectedContext: null as never }),
    "({ keyring, onHeader: 1 })": () => core.decryptStream({ keyring, onHeader: 1 as never }),
  },
  decryptWebStream: {
    "()": () => core.decryptWebStream(undefined as never),
    "({})": () => core.decryptWebStream({} as never),
  },
  rewrapStream: {
    "()": () => core.rewrapStream(undefined as never),
    "({})": () => core.rewrapStream({} as never),
    "({ from })": () => core.rewrapStream({ from: keyring } as never),
  },
  rewrapWebStream: {
    "()": () => core.rewrapWebStream(undefined as never),
    "({ to })": () => core.rewrapWebStream({ to: keyring } as never),
  },
  // @kms-envelope/core/format
  isArmored: { "(42)": () => format.isArmored(42 as never) },
  utf8: { "(undefined)": () => format.utf8(undefined as never) },
  fromUtf8Strict: { '("x")': () => format.fromUtf8Strict("x" as never) },
  compareBytes: { "(undefined, bytes)": () => format.compareBytes(undefined as never, new Uint8Array(1)) },
  concatBytes: {
    '("x")': () => format.concatBytes("x" as never),
    "([1])": () => format.concatBytes([1 as never]),
  },
  encodeContext: { "(null)": () => format.encodeContext(null as never) },
  canonicalizeContext: { "(undefined)": () => format.canonicalizeContext(undefined as never) },
  decodeContext: { "(undefined)": () => format.decodeContext(undefined as never) },
  contextsEqual: { "(undefined, {})": () => format.contextsEqual(undefined as never, {}) },
  writeNonce: {
    "(undefined, 1)": () => format.writeNonce(undefined as never, 1),
    "(nonce, -1)": () => format.writeNonce(new Uint8Array(12), -1),
  },
  writeFrameAad: {
    "(aad, undefined, 1, false, 0)": () =>
      format.writeFrameAad(new Uint8Array(41), undefined as never, 1, false, 0),
  },
  planFrames: {
    "(-1, 1)": () => format.planFrames(-1, 1),
    "(1, 0)": () => format.planFrames(1, 0),
  },
  bodyLength: { '("x", 1)': () => format.bodyLength("x" as never, 1) },
  FrameDecoder: {
    "new (0, 1, sink)": () => new format.FrameDecoder(0, 1, sink),
    "new (1, -1, sink)": () => new format.FrameDecoder(1, -1, sink),
    "new (1, 1, {})": () => new format.FrameDecoder(1, 1, {} as never),
    'new (1, 1, sink).push("x")': () => new format.FrameDecoder(1, 1, sink).push("x" as never),
  },
  rejectFrame: {
    '("bogus", "MALFORMED", "d")': () => format.rejectFrame("bogus" as never, "MALFORMED", "d"),
    '("truncated", "BOGUS", "d")': () => format.rejectFrame("truncated", "BOGUS" as never, "d"),
  },
  authenticatedHeaderLength: { "(-1)": () => format.authenticatedHeaderLength(-1) },
  writeAuthenticatedHeader: {
    "(undefined, target)": () => format.writeAuthenticatedHeader(undefined as never, new Uint8Array(200)),
  },
  encodeAuthenticatedHeader: { "({})": () => format.encodeAuthenticatedHeader({} as never) },
  encodeWrappedKeys: {
    "(undefined)": () => format.encodeWrappedKeys(undefined as never),
    "([{ provider, keyId }])": () => format.encodeWrappedKeys([{ provider: "x", keyId: "y" } as never]),
  },
  decodeHeaderPrefix: {
    "(undefined, limits)": () => format.decodeHeaderPrefix(undefined as never, core.DEFAULT_LIMITS),
  },
  decodeHeader: { "(env, undefined)": () => format.decodeHeader(envelope, undefined as never) },
  replaceWrappedKeys: { "(undefined, [])": () => format.replaceWrappedKeys(undefined as never, []) },
  ByteWriter: { "new (-1)": () => new format.ByteWriter(-1) },
  ByteReader: { "new (undefined)": () => new format.ByteReader(undefined as never) },
  NeedMoreBytes: { "new (-1)": () => new format.NeedMoreBytes(-1) },
  HeaderParser: {
    "new (undefined)": () => new format.HeaderParser(undefined as never),
    'new (limits).push("x")': () => new format.HeaderParser(core.DEFAULT_LIMITS).push("x" as never),
  },
  checkDataKey: { "(bytes, undefined)": () => core.checkDataKey(new Uint8Array(32), undefined as never) },
  checkEntryOwner: {
    "(undefined, entry)": () => core.checkEntryOwner(undefined as never, { provider: "p", keyId: "k" }),
    "(kek, null)": () => core.checkEntryOwner(kek, null as never),
    '(kek, entry, "x")': () => core.checkEntryOwner(kek, { provider: "p", keyId: "k" }, "x" as never),
  },
  checkReportedKey: {
    '(undefined, "op", "k", "k")': () => core.checkReportedKey(undefined as never, "op", "k", "k"),
    '("s", "op", "k", 1)': () => core.checkReportedKey("s", "op", "k", 1 as never),
  },
  createKmsCaller: {
    "(undefined)": () => core.createKmsCaller(undefined as never),
    '({ service: "s" })': () => core.createKmsCaller({ service: "s" } as never),
    "({ classify })": () => core.createKmsCaller({ classify: () => undefined } as never),
    '({ service: "s", classify, deadlineMs: -1 })': () =>
      core.createKmsCaller({ service: "s", classify: () => undefined, deadlineMs: -1 }),
  },
  kmsError: {
    '("s", "op", "k", error, undefined)': () =>
      core.kmsError("s", "op", "k", new Error("x"), undefined as never),
    '(1, "op", "k", error, classify)': () =>
      core.kmsError(1 as never, "op", "k", new Error("x"), () => undefined),
  },
  createPromiseCache: {
    "(undefined)": () => core.createPromiseCache(undefined as never),
    "(load, { ttlMs: -1 })": () => core.createPromiseCache(async () => 1, { ttlMs: -1 }),
    '(load, "x")': () => core.createPromiseCache(async () => 1, "x" as never),
  },
  untilAborted: {
    "(undefined)": () => core.untilAborted(undefined as never, undefined),
    '(promise, "x")': () => core.untilAborted(Promise.resolve(1), "x" as never),
    '(promise, undefined, "x")': () => core.untilAborted(Promise.resolve(1), undefined, "x" as never),
  },
  checkClientSettings: {
    "(undefined)": () => core.checkClientSettings(undefined as never),
    "({ settings: null })": () => core.checkClientSettings({ settings: null as never }),
    "({ settings, endpoint: 1 })": () => core.checkClientSettings({ settings: {}, endpoint: 1 as never }),
  },
  checkWrappedKey: {
    "(bytes, undefined)": () => core.checkWrappedKey(new Uint8Array(1), undefined as never),
    '(bytes, "s", 0)': () => core.checkWrappedKey(new Uint8Array(1), "s", 0),
  },
  createOwnedClient: {
    "(undefined, undefined, close)": () =>
      core.createOwnedClient(undefined, undefined as never, () => undefined),
    "(undefined, create, 1)": () => core.createOwnedClient(undefined, () => ({}), 1 as never),
  },
  rsaOaepWrap: {
    "(undefined, bytes)": () => core.rsaOaepWrap(undefined as never, new Uint8Array(32)),
    '(rsaPublic, bytes, "md5")': () => core.rsaOaepWrap(rsaPublic, new Uint8Array(32), "md5"),
  },
  abortSignalOption: {
    '("x")': () => core.abortSignalOption("x" as never),
  },
  readOpenOptions: {
    "(undefined, {}, spec)": () => core.readOpenOptions(undefined as never, {}, {}),
    '("s", {}, null)': () => core.readOpenOptions("s", {}, null as never),
    '("s", "x", spec)': () => core.readOpenOptions("s", "x", {}),
    '("s", { a: 1 }, { a: "string" })': () => core.readOpenOptions("s", { a: 1 }, { a: "string" }),
    '("s", { a: 1 }, { a: "text" })': () => core.readOpenOptions("s", { a: 1 }, { a: "text" as never }),
  },
  httpStatusFailure: {
    "(404, undefined)": () => core.httpStatusFailure(404, undefined as never),
  },
  readUriParameters: {
    '("", "", {})': () => core.readUriParameters("", "", {}),
    '("s", 1, {})': () => core.readUriParameters("s", 1 as never, {}),
    '("s", "", null)': () => core.readUriParameters("s", "", null as never),
    '("s", "a=1", { a: "number" })': () => core.readUriParameters("s", "a=1", { a: "number" as never }),
  },
  createLocalKek: {
    "(undefined)": () => local.createLocalKek(undefined as never),
    "(null)": () => local.createLocalKek(null as never),
    '({ key: "x", keyId })': () => local.createLocalKek({ key: "x" as never, keyId: "a" }),
    "({ key })": () => local.createLocalKek({ key: new Uint8Array(32) } as never),
    "({ key, keyId, random: 1 })": () =>
      local.createLocalKek({ key: new Uint8Array(32), keyId: "a", random: 1 as never }),
  },
};

/** Exports that are not functions taking caller input, or that another change owns. */
const EXCLUDED: Record<string, string> = {
  EnvelopeError: "a class: constructing an error is not an entry point",
  isEnvelopeError: "a predicate over unknown values: it answers false for anything else",
  isLoopbackUrl: "a predicate over unknown values: false for anything that is not a loopback URL",
  stripRequestData: "takes any value: returns what is not an Error unchanged",
  networkErrorCode: "takes any value: undefined for anything without a network error code",
  // @kms-envelope/local's keystore entry points are validated with the keystore's own work (issue #10, defects 3-6).
  openKeystore: "keystore (issue #10, reliability)",
  defaultKeystorePath: "takes no argument",
};

async function codeOf(call: Call): Promise<string> {
  try {
    const result = call();
    if (result instanceof Promise) await result;
  } catch (error) {
    if (core.isEnvelopeError(error)) return error.code;
    return `untyped ${(error as Error)?.name}: ${(error as Error)?.message}`;
  }
  return "no error";
}

const rows = Object.entries(TABLE).flatMap(([name, calls]) =>
  Object.entries(calls).map(([args, call]) => [`${name}${args}`, call] as const),
);

describe("every public entry validates its arguments (INVALID_ARGUMENT)", () => {
  it.each(rows)("%s", async (_label, call) => {
    expect(await codeOf(call)).toBe("INVALID_ARGUMENT");
  });

  it("the table names every exported function of core and local", () => {
    const exported = [...Object.entries(core), ...Object.entries(format), ...Object.entries(local)]
      .filter(([, value]) => typeof value === "function")
      .map(([name]) => name);
    const missing = exported.filter((name) => !(name in TABLE) && !(name in EXCLUDED));
    expect(missing, "add a row (or a reasoned exclusion) for each new export").toEqual([]);
  });
});
