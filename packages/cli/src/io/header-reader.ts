import {
  DEFAULT_LIMITS,
  EnvelopeError,
  type EnvelopeInfo,
  inspect,
  isEnvelopeError,
} from "@kms-envelope/core";
import { type EnvelopeBytes, envelopeBytes, startsArmored } from "./envelope-form.js";

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

/**
 * Reads just enough of an envelope (binary or armored) to describe its
 * header: chunk by chunk, stopping as soon as the header parses. A prefix
 * that fails to parse is retried with more bytes only while it is shorter
 * than the longest possible header, so the answer is final either way.
 * Armored input goes through the same decoder as decrypt (envelope-form.ts);
 * after its header, the rest of the text is read (and dropped) so the
 * armor's end is checked as core's `inspect` checks it.
 */
export async function readEnvelopeHeader(chunks: AsyncIterator<Uint8Array>): Promise<EnvelopeInfo> {
  const decoder = envelopeBytes();
  const held: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const next = await chunks.next();
    const ended = next.done === true;
    const out = ended ? decoder.finish() : decoder.push(next.value);
    if (out !== undefined) {
      held.push(out === next.value ? Buffer.from(out) : out);
      total += out.length;
    }
    if (decoder.form === undefined) continue;
    const bytes = Buffer.concat(held);
    // Core's inspect would read decoded text starting with "kmse" as armor again: it is not an envelope.
    if (decoder.form === "armored" && startsArmored(bytes)) {
      throw new EnvelopeError("MALFORMED", "armor: the armored text holds armored text, not an envelope");
    }
    let info: EnvelopeInfo | undefined;
    try {
      info = inspect(bytes);
    } catch (error) {
      if (ended || bytes.length >= MAX_HEADER_BYTES || !isEnvelopeError(error)) throw error;
    }
    if (info !== undefined) {
      if (decoder.form === "armored" && !ended) await checkArmorEnd(chunks, decoder);
      return info;
    }
    if (total > 4 * MAX_HEADER_BYTES)
      throw new EnvelopeError("MALFORMED", "header: no header within the longest a header can be");
  }
}

async function checkArmorEnd(chunks: AsyncIterator<Uint8Array>, decoder: EnvelopeBytes): Promise<void> {
  for (let next = await chunks.next(); next.done !== true; next = await chunks.next())
    decoder.push(next.value);
  decoder.finish();
}
