import { EnvelopeError } from "../errors.js";
import { HeaderParser } from "../format/header-parser.js";
import { resolveLimits } from "../limits.js";
import { type RewrapOptions, type RewrapReport, rewrapHeader } from "../rewrap.js";
import type { Emit } from "./body-sealer.js";
import type { ChunkProcessor } from "./processor.js";

/**
 * Rewraps a streamed envelope: buffers only the header, emits the rewritten
 * header, then passes every body byte through untouched (never decrypted,
 * so a damaged body is left for decrypt to reject). Constant memory.
 */
export class RewrapSession implements ChunkProcessor {
  private parser: HeaderParser | undefined;
  private passing = false;
  private resolveReport!: (report: RewrapReport) => void;
  private rejectReport!: (error: unknown) => void;
  readonly report: Promise<RewrapReport>;

  constructor(private readonly options: RewrapOptions) {
    this.parser = new HeaderParser(resolveLimits(options.limits));
    this.report = new Promise((resolve, reject) => {
      this.resolveReport = resolve;
      this.rejectReport = reject;
    });
    this.report.catch(() => {});
  }

  async push(chunk: Uint8Array, emit: Emit): Promise<void> {
    if (this.passing) {
      if (chunk.length > 0) emit(chunk);
      return;
    }
    const parsed = this.parser!.push(chunk);
    if (parsed === undefined) return;
    this.parser = undefined;
    const { header, report } = await rewrapHeader(parsed.header, this.options);
    this.passing = true;
    emit(header);
    if (parsed.rest.length > 0) emit(parsed.rest);
    this.resolveReport(report);
  }

  finish(): void {
    if (!this.passing) throw new EnvelopeError("MALFORMED", "header: the envelope ends inside its header");
  }

  dispose(error?: unknown): void {
    this.parser = undefined;
    this.rejectReport(error ?? new EnvelopeError("ABORTED", "the stream ended before its header was read"));
  }
}
