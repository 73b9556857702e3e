#!/usr/bin/env node
// Regenerates test-vectors/manifest.json from the code: `pnpm vectors`.
// packages/local/test/vectors.test.ts fails when the committed manifest and this output disagree.
import { createHash } from "node:crypto";
import { writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { applyMutation, layoutOf } from "@kms-envelope/conformance";
import { armor, createKeyring, dearmor, decrypt, EnvelopeError } from "@kms-envelope/core";
import { prepareMessage, sealMessage } from "@kms-envelope/core/testing";
import { createLocalKek } from "@kms-envelope/local";
import { NEGATIVE_CASES, POSITIVE_CASES } from "./cases.mjs";
import { referenceLocalWrap, referenceSeal } from "./reference-sealer.mjs";

const hex = (bytes) => Buffer.from(bytes).toString("hex");

/** A deterministic byte stream per label: SHA-256(label ‖ counter) blocks. */
function streamFor(label) {
  let counter = 0;
  let pool = Buffer.alloc(0);
  return (target) => {
    while (pool.length < target.length) {
      pool = Buffer.concat([pool, createHash("sha256").update(`${label}/${counter++}`).digest()]);
    }
    target.set(pool.subarray(0, target.length));
    pool = pool.subarray(target.length);
  };
}

export const KEYS = ["k1", "k2", "k3"].map((name) => ({
  name,
  provider: "local",
  keyId: name === "k3" ? "clé-3" : `vector-${name}`,
  key: createHash("sha256").update(`kms-envelope test vector key ${name}`).digest("hex"),
}));

function localKek(name, random) {
  const key = KEYS.find((candidate) => candidate.name === name);
  return createLocalKek({ key: Buffer.from(key.key, "hex"), keyId: key.keyId, random });
}

async function makePositive(spec) {
  const draws = [];
  const record = (kind, source) => (target) => {
    source(target);
    draws.push({ kind, bytes: hex(target) });
  };
  const coreRandom = record("core", streamFor(`${spec.id}/core`));
  const wrapRandom = record("wrap", streamFor(`${spec.id}/wrap`));
  const [primary, ...extra] = spec.keys.map((name) => localKek(name, wrapRandom));
  const keyring = createKeyring({ primary, extra });
  const materials = await prepareMessage(
    { keyring, context: spec.context, frameLength: spec.frameLength, limits: spec.limits },
    coreRandom,
  );
  const plaintext = Buffer.from(spec.plaintext, "hex");
  const coreDraws = draws.filter((draw) => draw.kind === "core").map((draw) => draw.bytes);
  const wrapNonces = draws.filter((draw) => draw.kind === "wrap").map((draw) => draw.bytes);
  // The envelope comes from the independent reference encoder; core's must be the same bytes.
  const envelope = reference(spec, coreDraws, wrapNonces, plaintext);
  const sealedByCore = sealMessage(materials, plaintext);
  if (!Buffer.from(sealedByCore).equals(envelope)) {
    throw new Error(`positive ${spec.id}: core and the reference sealer disagree`);
  }
  const vector = {
    id: spec.id,
    description: spec.description,
    keys: spec.keys,
    dek: coreDraws[0],
    messageId: coreDraws[1],
    wrapNonces,
    context: materials.context,
    frameLength: spec.frameLength,
    plaintext: spec.plaintext,
    envelope: hex(envelope),
  };
  if (spec.armored) {
    vector.armored = armor(envelope);
    vector.armoredAccepted = acceptedVariants(vector.armored);
    for (const variant of vector.armoredAccepted) {
      if (!Buffer.from(dearmor(variant)).equals(envelope))
        throw new Error(`positive ${spec.id}: an accepted armored variant does not decode`);
    }
  }
  // Every positive vector must decrypt with the code as it is.
  const check = await decrypt(envelope, { keyring, expectedContext: spec.context });
  if (!Buffer.from(check.plaintext).equals(plaintext))
    throw new Error(`positive ${spec.id} does not round-trip`);
  return vector;
}

/** The positive vector's envelope made by reference-sealer.mjs from the same DEK, ids and nonces. */
function reference(spec, coreDraws, wrapNonces, plaintext) {
  const dek = Buffer.from(coreDraws[0], "hex");
  const wrappedKeys = spec.keys.map((name, i) => {
    const key = KEYS.find((candidate) => candidate.name === name);
    const wrapped = referenceLocalWrap({
      key: Buffer.from(key.key, "hex"),
      keyId: key.keyId,
      nonce: Buffer.from(wrapNonces[i], "hex"),
      dek,
      context: spec.context,
    });
    return { provider: "local", keyId: key.keyId, wrapped };
  });
  return referenceSeal({
    dek,
    messageId: Buffer.from(coreDraws[1], "hex"),
    context: spec.context,
    frameLength: spec.frameLength,
    wrappedKeys,
    plaintext,
  });
}

async function makeNegative(spec, positives) {
  const base = positives.get(spec.base);
  if (base === undefined) throw new Error(`negative ${spec.id}: unknown base ${spec.base}`);
  const mutation = typeof spec.mutation === "function" ? spec.mutation(positives) : spec.mutation;
  const mutated = applyMutation(Buffer.from(base.envelope, "hex"), mutation);
  let envelope = hex(mutated);
  let input = mutated;
  if (spec.armored) {
    envelope = spec.armorText ? spec.armorText(armor(mutated)) : armor(mutated);
    input = envelope;
    // Armored text handed over as bytes (a file, a pipe): the decoder tells the forms apart.
    if (spec.asBytes) {
      input = Buffer.from(envelope, "latin1");
      envelope = hex(input);
    }
  }
  const decryptSpec = { keys: spec.keys ?? base.keys };
  if (spec.expectedContext !== undefined) decryptSpec.expectedContext = spec.expectedContext;
  if (spec.limits !== undefined) decryptSpec.limits = spec.limits;
  const keyring = createKeyring({ decryptOnly: decryptSpec.keys.map((name) => localKek(name)) });
  let error;
  try {
    await decrypt(input, {
      keyring,
      expectedContext: decryptSpec.expectedContext,
      limits: decryptSpec.limits,
    });
  } catch (caught) {
    error = caught;
  }
  if (!(error instanceof EnvelopeError))
    throw new Error(`negative ${spec.id} did not fail with an EnvelopeError: ${error}`);
  if (error.code !== spec.code) {
    throw new Error(`negative ${spec.id}: expected ${spec.code}, got ${error.code} (${error.message})`);
  }
  const vector = {
    id: spec.id,
    description: spec.description,
    base: spec.base,
    mutation,
    envelope,
    decrypt: decryptSpec,
    code: error.code,
    check: /^[a-z-]+:/.test(error.message) ? error.message.slice(0, error.message.indexOf(":")) : error.code,
    portable: spec.portable ?? true,
  };
  if (spec.armored && !spec.asBytes) vector.armored = true;
  if (spec.asBytes) vector.armoredBytes = true;
  if (spec.alternativeCodes) vector.alternativeCodes = spec.alternativeCodes;
  return vector;
}

/**
 * Other texts every decoder must accept as the same envelope: whitespace (SP, HT, LF, CR)
 * before the prefix, between any two characters after it, and at the end.
 */
function acceptedVariants(text) {
  const prefix = "kmse1:";
  const body = text.slice(prefix.length);
  return [
    ` \t\r\n${text}`,
    `${text}\r\n`,
    `${prefix}\n${body.replace(/(.{16})/g, "$1\n")}`,
    `${prefix} ${body.replace(/(.{7})/g, "$1\t \r\n")} `,
  ];
}

export async function generateManifest() {
  const positive = [];
  for (const spec of POSITIVE_CASES) positive.push(await makePositive(spec));
  const byId = new Map(positive.map((vector) => [vector.id, vector]));
  const negative = [];
  for (const spec of NEGATIVE_CASES) negative.push(await makeNegative(spec, byId));
  const ids = new Set();
  for (const vector of [...positive, ...negative]) {
    if (ids.has(vector.id)) throw new Error(`duplicate vector id ${vector.id}`);
    ids.add(vector.id);
  }
  return { format: "kms-envelope test vectors", version: 1, keys: KEYS, positive, negative };
}

export function serialize(manifest) {
  return `${JSON.stringify(manifest, null, 1)}\n`;
}

export { layoutOf };

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const manifest = await generateManifest();
  const target = join(dirname(fileURLToPath(import.meta.url)), "manifest.json");
  writeFileSync(target, serialize(manifest));
  console.log(
    `wrote ${manifest.positive.length} positive and ${manifest.negative.length} negative vectors to ${target}`,
  );
}
