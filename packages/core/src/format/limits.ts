// The bounds the format's decoders enforce: here, beside them, so that format/ imports
// nothing above it; ../limits.ts adds resolveLimits (option checking) on top.
/**
 * Bounds applied on encrypt and on decrypt. Decrypt checks every count and
 * length read from an envelope against these before allocating anything of
 * that size, so a hostile header cannot make us allocate or loop.
 */
export interface Limits {
  /** Wrapped keys in one envelope (encrypt: keyring size; decrypt: header count). */
  readonly maxWrappedKeys: number;
  /** Bytes of one wrapped key. */
  readonly maxWrappedKeyBytes: number;
  /** Bytes of one key id. */
  readonly maxKeyIdBytes: number;
  /** Bytes of the encoded encryption context (count + pairs). */
  readonly maxContextBytes: number;
  readonly minFrameLength: number;
  readonly maxFrameLength: number;
  /** Plaintext bytes one envelope may carry on decrypt. */
  readonly maxPlaintextBytes: number;
}

export const DEFAULT_LIMITS: Limits = Object.freeze({
  maxWrappedKeys: 16,
  maxWrappedKeyBytes: 4096,
  maxKeyIdBytes: 2048,
  maxContextBytes: 8192,
  minFrameLength: 1,
  maxFrameLength: 16 * 1024 * 1024,
  maxPlaintextBytes: 64 * 1024 ** 3,
});
