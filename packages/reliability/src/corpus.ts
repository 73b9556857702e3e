import { readFileSync } from "node:fs";
import { createKeyring, type EncryptionContext, type Keyring } from "@kms-envelope/core";
import { createLocalKek } from "@kms-envelope/local";

/**
 * The envelopes the mutations start from: the shared positive test vectors
 * (fixed bytes with known keys and plaintexts), so a seed replays exactly.
 */
export interface Source {
  readonly id: string;
  readonly envelope: Uint8Array;
  readonly armored?: string | undefined;
  readonly plaintext: Uint8Array;
  readonly context: EncryptionContext;
}

export interface Corpus {
  readonly sources: readonly Source[];
  /** Holds every vector key: k1 primary, k2 and k3 extra. */
  readonly keyring: Keyring;
  /** A second keyring (k2 only) that rewrap moves envelopes to. */
  readonly rewrapTarget: Keyring;
  /** Every DEK and KEK of the corpus, for the leak scans. */
  readonly secrets: readonly Uint8Array[];
}

interface Manifest {
  keys: { name: string; keyId: string; key: string }[];
  positive: {
    id: string;
    keys: string[];
    dek: string;
    context: EncryptionContext;
    plaintext: string;
    envelope: string;
    armored?: string;
  }[];
}

/** Vectors above this size cost more than they teach in a random search; the named vectors cover them. */
const MAX_ENVELOPE_BYTES = 2_048;

export function loadCorpus(): Corpus {
  const manifestUrl = new URL("../../../test-vectors/manifest.json", import.meta.url);
  const manifest = JSON.parse(readFileSync(manifestUrl, "utf8")) as Manifest;
  const keks = new Map(
    manifest.keys.map((key) => [
      key.name,
      createLocalKek({ key: Buffer.from(key.key, "hex"), keyId: key.keyId }),
    ]),
  );
  const kek = (name: string) => {
    const found = keks.get(name);
    if (found === undefined) throw new Error(`the vectors have no key ${name}`);
    return found;
  };
  const sources = manifest.positive
    .filter((vector) => vector.envelope.length / 2 <= MAX_ENVELOPE_BYTES)
    .map((vector) => ({
      id: vector.id,
      envelope: Buffer.from(vector.envelope, "hex"),
      armored: vector.armored,
      plaintext: Buffer.from(vector.plaintext, "hex"),
      context: vector.context,
    }));
  return {
    sources,
    keyring: createKeyring({ primary: kek("k1"), extra: [kek("k2"), kek("k3")] }),
    rewrapTarget: createKeyring({ primary: kek("k2") }),
    secrets: [
      ...manifest.keys.map((key) => Buffer.from(key.key, "hex")),
      ...manifest.positive.map((vector) => Buffer.from(vector.dek, "hex")),
    ],
  };
}
