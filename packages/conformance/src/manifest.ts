import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { EncryptionContext, ErrorCode, Limits } from "@kms-envelope/core";
import type { Mutation } from "./mutations.js";

/** The shared test-vector manifest; its schema is documented in test-vectors/README.md. */
export interface VectorManifest {
  readonly format: "kms-envelope test vectors";
  readonly version: 1;
  readonly keys: readonly VectorKey[];
  readonly positive: readonly PositiveVector[];
  readonly negative: readonly NegativeVector[];
}

export interface VectorKey {
  readonly name: string;
  readonly provider: "local";
  readonly keyId: string;
  /** Hex, 32 bytes: the local KEK's AES-256 key. */
  readonly key: string;
}

export interface PositiveVector {
  readonly id: string;
  readonly description: string;
  /** Key names; the first is the primary. */
  readonly keys: readonly string[];
  readonly dek: string;
  readonly messageId: string;
  /** Nonces the local KEK drew for each wrap, in key order (hex). */
  readonly wrapNonces: readonly string[];
  readonly context: EncryptionContext;
  readonly frameLength: number;
  readonly plaintext: string;
  /** The exact envelope bytes, hex. */
  readonly envelope: string;
  /** Present when the vector pins the armored text form of the same bytes: the one canonical text. */
  readonly armored?: string;
  /** With `armored`: other texts (whitespace before, inside and after the base64url) every decoder accepts. */
  readonly armoredAccepted?: readonly string[];
}

export interface NegativeVector {
  readonly id: string;
  readonly description: string;
  /** The positive vector the mutation was applied to. */
  readonly base: string;
  readonly mutation: Mutation;
  /** The mutated envelope, hex (or armored text when `armored` is true). */
  readonly envelope: string;
  readonly armored?: boolean;
  /** The envelope (hex) is armored text handed over as bytes: pins how decoders tell the forms apart. */
  readonly armoredBytes?: boolean;
  readonly decrypt: {
    readonly keys: readonly string[];
    readonly expectedContext?: EncryptionContext;
    readonly limits?: Partial<Limits>;
  };
  /** The code decrypt must fail with. */
  readonly code: ErrorCode;
  /** The named check that rejects it (docs/format.md). */
  readonly check: string;
  /** Whether the mutation means the same thing on any provider's envelope (conformance re-applies those). */
  readonly portable: boolean;
  /** Codes a KEK whose KMS does not bind the context may produce instead. */
  readonly alternativeCodes?: readonly ErrorCode[];
}

/** Loads the manifest shipped in this package (copied from the repository's test-vectors/ at build). */
export function loadManifest(path = defaultManifestPath()): VectorManifest {
  return JSON.parse(readFileSync(path, "utf8")) as VectorManifest;
}

export function defaultManifestPath(): string {
  const here = dirname(fileURLToPath(import.meta.url));
  const shipped = join(here, "..", "vectors", "manifest.json");
  if (existsSync(shipped)) return shipped;
  return join(here, "..", "..", "..", "test-vectors", "manifest.json");
}

export function fromHex(hex: string): Uint8Array<ArrayBuffer> {
  const buffer = Buffer.from(hex, "hex");
  return new Uint8Array(buffer.buffer, buffer.byteOffset, buffer.byteLength) as Uint8Array<ArrayBuffer>;
}
