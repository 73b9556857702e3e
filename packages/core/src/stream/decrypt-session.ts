import { checkExpectedContext } from "../context.js";
import { zero } from "../crypto/memory.js";
import type { DecryptOptions } from "../decrypt.js";
import { EnvelopeError, throwIfAborted } from "../errors.js";
import { HeaderParser } from "../format/header-parser.js";
import { describeHeader, type EnvelopeInfo } from "../inspect.js";
import { type Limits, resolveLimits } from "../limits.js";
import { unlockHeader } from "../unlock.js";
import { BodyOpener } from "./body-opener.js";
import type { Emit } from "./body-sealer.js";
import type { ChunkProcessor } from "./processor.js";

/** The authenticated header of a streamed envelope, known before the first plaintext byte. */
export interface DecryptStreamHeader {
  readonly header: EnvelopeInfo;
  /** The wrapped key that unlocked the envelope. */
  readonly unwrappedWith: { readonly provider: string; readonly keyId: string };
}

export interface DecryptStreamOptions extends DecryptOptions {
  /** Called once the header has been authenticated (after unwrap, commitment and header tag). */
  onHeader?: ((header: DecryptStreamHeader) => void) | undefined;
}

/**
 * Decrypts one envelope chunk by chunk with the buffer `decrypt`'s checks in
 * its order: header → expected context → unwrap → key commitment → header
 * tag → each frame in order → trailing bytes; the end of the input inside
 * the header is MALFORMED, anywhere before the final frame TAMPERED.
 */
export class DecryptSession implements ChunkProcessor {
  private readonly limits: Limits;
  private parser: HeaderParser | undefined;
  private body: BodyOpener | undefined;
  private disposed = false;
  private resolveHeader!: (header: DecryptStreamHeader) => void;
  private rejectHeader!: (error: unknown) => void;
  /** Resolves with the authenticated header; rejects if the stream fails first. */
  readonly header: Promise<DecryptStreamHeader>;

  constructor(private readonly options: DecryptStreamOptions) {
    this.limits = resolveLimits(options.limits);
    this.parser = new HeaderParser(this.limits);
    this.header = new Promise((resolve, reject) => {
      this.resolveHeader = resolve;
      this.rejectHeader = reject;
    });
    // A caller who never looks at the promise must not see an unhandled rejection.
    this.header.catch(() => {});
  }

  async push(chunk: Uint8Array, emit: Emit): Promise<void> {
    throwIfAborted(this.options.signal);
    if (this.body !== undefined) {
      this.body.push(chunk, emit);
      return;
    }
    const parsed = this.parser!.push(chunk);
    if (parsed === undefined) return;
    this.parser = undefined;
    const { header, rest } = parsed;
    checkExpectedContext(header.context, this.options.expectedContext);
    const unlocked = await unlockHeader(header, this.options.keyring, this.options.signal);
    zero(unlocked.dek);
    if (this.disposed) {
      throw new EnvelopeError("ABORTED", "the operation was aborted");
    }
    this.body = new BodyOpener(
      unlocked.frameKey,
      header.messageId,
      header.frameLength,
      this.limits.maxPlaintextBytes,
    );
    const info: DecryptStreamHeader = Object.freeze({
      header: describeHeader(header),
      unwrappedWith: Object.freeze({ provider: unlocked.entry.provider, keyId: unlocked.entry.keyId }),
    });
    this.resolveHeader(info);
    this.options.onHeader?.(info);
    if (rest.length > 0) this.body.push(rest, emit);
  }

  finish(emit: Emit): void {
    if (this.body === undefined) {
      throw new EnvelopeError("MALFORMED", "header: the envelope ends inside its header");
    }
    this.body.finish(emit);
  }

  dispose(error?: unknown): void {
    this.disposed = true;
    this.parser = undefined;
    this.body?.dispose();
    this.rejectHeader(error ?? new EnvelopeError("ABORTED", "the stream ended before its header was read"));
  }
}
