import { PlaintextBuffer } from "./body.js";
import { checkExpectedContext } from "./context.js";
import { zero } from "./crypto/memory.js";
import type { EncryptionContext } from "./format/context.js";
import { FrameDecoder } from "./format/frame-decoder.js";
import { decodeHeader } from "./format/header.js";
import { describeHeader, type EnvelopeInfo, toEnvelopeBytes } from "./inspect.js";
import type { Keyring } from "./keyring.js";
import { type Limits, resolveLimits } from "./limits.js";
import { unlockHeader } from "./unlock.js";
import { checkDecryptOptions, requireEnvelope } from "./validate.js";

export interface DecryptOptions {
  keyring: Keyring;
  /** When given, the envelope's context must hold exactly these pairs (`CONTEXT_MISMATCH` otherwise). */
  expectedContext?: EncryptionContext | undefined;
  limits?: Partial<Limits> | undefined;
  signal?: AbortSignal | undefined;
}

export interface DecryptResult {
  readonly plaintext: Uint8Array;
  readonly header: EnvelopeInfo;
  /** The wrapped key that unlocked the envelope. */
  readonly unwrappedWith: { readonly provider: string; readonly keyId: string };
}

/**
 * Decrypts a whole envelope held in memory. The checks run in the same order
 * as the streaming decrypt, so both report the same code for the same input:
 * header → expected context → unwrap → key commitment → header tag → each
 * frame in order → trailing bytes. Plaintext is returned only when every
 * frame has verified; on any failure what was decrypted is zeroed.
 */
export async function decrypt(
  envelope: Uint8Array | string,
  options: DecryptOptions,
): Promise<DecryptResult> {
  requireEnvelope(envelope, "decrypt");
  checkDecryptOptions(options, "decrypt");
  const bytes = toEnvelopeBytes(envelope);
  const limits = resolveLimits(options.limits);
  const header = decodeHeader(bytes, limits);
  checkExpectedContext(header.context, options.expectedContext);
  const unlocked = await unlockHeader(header, options.keyring, options.signal);
  zero(unlocked.dek);
  // One decoder for buffer and stream alike (format/frame-decoder.ts); the body is one chunk.
  const plaintext = new PlaintextBuffer(unlocked.frameKey, header.messageId, bytes.length - header.length);
  try {
    const decoder = new FrameDecoder(header.frameLength, limits.maxPlaintextBytes, plaintext);
    decoder.push(bytes.subarray(header.length));
    decoder.finish();
    return {
      plaintext: plaintext.take(),
      header: describeHeader(header),
      unwrappedWith: { provider: unlocked.entry.provider, keyId: unlocked.entry.keyId },
    };
  } catch (error) {
    plaintext.dispose();
    throw error;
  }
}
