import { EnvelopeError, parseKeyList, parseKeyUri } from "@kms-envelope/core";

/** Marks a key in a key list (`KMS_ENVELOPE_KEYS`, `--key`) as decrypt-only. */
export const DECRYPT_ONLY_PREFIX = "decrypt:";

export interface KeySpecs {
  /** Wrap new envelopes; the first is the primary. */
  readonly encrypt: readonly string[];
  /** Unwrap only. */
  readonly decrypt: readonly string[];
}

/**
 * Splits a key list as `KMS_ENVELOPE_KEYS` holds it (URIs separated by
 * commas, spaces or newlines; or an array, one entry per `--key`) into
 * encrypt and decrypt-only keys. A URI written `decrypt:<uri>` is
 * decrypt-only; every other URI wraps, the first being the primary:
 *
 *   KMS_ENVELOPE_KEYS="gcp-kms://projects/p/…/cryptoKeys/k decrypt:aws-kms://arn:aws:kms:…"
 *
 * The prefix cannot be mistaken for a URI: a scheme is followed by "://".
 */
export function parseKeySpecs(value: string | readonly string[]): KeySpecs {
  const parts =
    typeof value === "string"
      ? parseKeyList(value)
      : Array.isArray(value)
        ? value.flatMap((entry) => {
            if (typeof entry !== "string")
              throw new EnvelopeError("INVALID_ARGUMENT", "every key must be a string");
            return parseKeyList(entry);
          })
        : undefined;
  if (parts === undefined)
    throw new EnvelopeError("INVALID_ARGUMENT", "a key list must be a string or an array");
  const encrypt: string[] = [];
  const decrypt: string[] = [];
  for (const part of parts) {
    const decryptOnly = part.startsWith(DECRYPT_ONLY_PREFIX);
    const uri = decryptOnly ? part.slice(DECRYPT_ONLY_PREFIX.length) : part;
    parseKeyUri(uri); // INVALID_ARGUMENT naming the entry when it is not scheme://location
    if (encrypt.includes(uri) || decrypt.includes(uri)) {
      throw new EnvelopeError("INVALID_ARGUMENT", `the key list names ${uri} twice`);
    }
    (decryptOnly ? decrypt : encrypt).push(uri);
  }
  return Object.freeze({ encrypt: Object.freeze(encrypt), decrypt: Object.freeze(decrypt) });
}
