import {
  DEFAULT_LIMITS,
  EnvelopeError,
  type EnvelopeInfo,
  inspect,
  isEnvelopeError,
} from "@kms-envelope/core";

/** The most bytes a header can take under the default limits (docs/format.md). */
export const MAX_HEADER_BYTES =
  4 +
  1 +
  2 +
  32 +
  4 +
  2 +
  DEFAULT_LIMITS.maxContextBytes +
  32 +
  16 +
  2 +
  DEFAULT_LIMITS.maxWrappedKeys *
    (1 + 64 + 2 + DEFAULT_LIMITS.maxKeyIdBytes + 2 + DEFAULT_LIMITS.maxWrappedKeyBytes);

const PREFIX = "kmse1:";

function armoredPrefixBytes(text: string): Uint8Array | undefined {
  const compact = text.replace(/[\t\n\r ]/g, "");
  if (!compact.startsWith(PREFIX)) return undefined;
  const body = compact.slice(PREFIX.length);
  const usable = body.slice(0, body.length - (body.length % 4));
  return inspectableArmor(usable);
}

function inspectableArmor(body: string): Uint8Array {
  if (!/^[A-Za-z0-9_-]*$/.test(body)) return new Uint8Array(0);
  return Buffer.from(body, "base64url");
}

/**
 * Reads just enough of an envelope (binary or armored) to describe its
 * header: chunk by chunk, stopping as soon as the header parses. A prefix
 * that fails to parse is retried with more bytes only while it is shorter
 * than the longest possible header, so the answer is final either way.
 */
export async function readEnvelopeHeader(chunks: AsyncIterator<Uint8Array>): Promise<EnvelopeInfo> {
  const held: Buffer[] = [];
  let total = 0;
  let armored: boolean | undefined;
  for (;;) {
    const next = await chunks.next();
    const ended = next.done === true;
    if (!ended) {
      held.push(Buffer.from(next.value));
      total += next.value.length;
    }
    const bytes = Buffer.concat(held);
    if (armored === undefined && (bytes.length >= 8 || ended)) {
      armored = bytes.toString("latin1", 0, 64).trimStart().startsWith(PREFIX);
    }
    if (armored === undefined) continue;
    const candidate = armored ? (armoredPrefixBytes(bytes.toString("latin1")) ?? bytes) : bytes;
    try {
      return inspect(candidate);
    } catch (error) {
      const enough = candidate.length >= MAX_HEADER_BYTES;
      if (ended || enough || !isEnvelopeError(error)) {
        if (armored && ended) return inspect(bytes.toString("latin1"));
        throw error;
      }
    }
    if (total > 4 * MAX_HEADER_BYTES)
      throw new EnvelopeError("MALFORMED", "header: no header within the longest a header can be");
  }
}
