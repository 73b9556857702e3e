import { zero } from "../crypto/memory.js";
import { type RandomSource, secureRandom } from "../crypto/random.js";
import { type EncryptOptions, prepareMessage, sealHeader } from "../encrypt.js";
import { BodySealer, type Emit } from "./body-sealer.js";
import type { ChunkProcessor } from "./processor.js";

export type EncryptStreamOptions = EncryptOptions;

/**
 * Encrypts one envelope chunk by chunk: `start` gets the DEK from the
 * keyring (the only KMS calls) and seals the header, which is emitted ahead
 * of the first frame; then frames exactly as the buffer `encrypt` makes them.
 */
export class EncryptSession implements ChunkProcessor {
  private header: Uint8Array | undefined;
  private body: BodySealer | undefined;
  private disposed = false;

  constructor(
    private readonly options: EncryptStreamOptions,
    private readonly random: RandomSource = secureRandom,
  ) {}

  async start(): Promise<void> {
    const materials = await prepareMessage(this.options, this.random);
    try {
      if (this.disposed) return;
      const { header, frameKey } = sealHeader(materials);
      this.header = header;
      this.body = new BodySealer(frameKey, materials.messageId, materials.frameLength);
    } finally {
      zero(materials.dek);
    }
  }

  push(chunk: Uint8Array, emit: Emit): void {
    this.emitHeader(emit);
    this.sealer().push(chunk, emit);
  }

  finish(emit: Emit): void {
    this.emitHeader(emit);
    this.sealer().finish(emit);
  }

  dispose(): void {
    this.disposed = true;
    this.body?.dispose();
  }

  private sealer(): BodySealer {
    if (this.body === undefined) throw new Error("EncryptSession: not started");
    return this.body;
  }

  private emitHeader(emit: Emit): void {
    if (this.header === undefined) return;
    const header = this.header;
    this.header = undefined;
    emit(header);
  }
}
