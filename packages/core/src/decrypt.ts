import { FrameOpener } from "./body.js";
import { checkExpectedContext } from "./context.js";
import { zero } from "./crypto/memory.js";
import { EnvelopeError } from "./errors.js";
import { ByteReader, NeedMoreBytes } from "./format/bytes.js";
import type { EncryptionContext } from "./format/context.js";
import { readFrame } from "./format/frame.js";
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
  // A single-frame body decrypts into OpenSSL's fresh output, returned as is; a longer
  // one into one buffer sized by the body (an upper bound, so no scan ahead of the
  // checks), frame by frame. Nothing is returned until every frame has verified.
  let single: Buffer | undefined;
  let out: Buffer | undefined;
  let written = 0;
  try {
    const opener = new FrameOpener(unlocked.frameKey, header.messageId, limits.maxPlaintextBytes);
    const reader = new ByteReader(bytes);
    reader.offset = header.length;
    for (let sequence = 1; !opener.done; sequence++) {
      let frame: ReturnType<typeof readFrame>;
      try {
        frame = readFrame(reader, header.frameLength, sequence);
      } catch (error) {
        if (error instanceof NeedMoreBytes) {
          throw new EnvelopeError("TAMPERED", "truncated: the envelope ends before its final frame");
        }
        throw error;
      }
      if (sequence === 1 && frame.final) {
        single = opener.open(frame);
        continue;
      }
      // Every byte written below is plaintext, and the tail is zeroed before release.
      out ??= Buffer.allocUnsafeSlow(bytes.length - header.length);
      opener.openInto(frame, out, written);
      written += frame.ciphertext.length;
    }
    if (reader.remaining !== 0)
      throw new EnvelopeError("MALFORMED", "trailing-bytes: bytes follow the final frame");
    let plaintext: Buffer;
    if (single !== undefined) plaintext = single;
    else {
      out!.fill(0, written);
      plaintext = out!.subarray(0, written);
    }
    return {
      plaintext,
      header: describeHeader(header),
      unwrappedWith: { provider: unlocked.entry.provider, keyId: unlocked.entry.keyId },
    };
  } catch (error) {
    single?.fill(0);
    out?.fill(0, 0, written);
    throw error;
  }
}
