/** Envelope format v1 constants. docs/format.md specifies each one. */
export const MAGIC = Uint8Array.of(0x4b, 0x4d, 0x53, 0x45); // "KMSE"
export const FORMAT_VERSION = 1;
/** AES-256-GCM frames, HKDF-SHA512 key derivation, 32-byte key commitment, GCM header tag. */
export const SUITE_AES256_GCM_HKDF_SHA512_COMMIT = 0x0001;
export const SUPPORTED_SUITES: ReadonlySet<number> = new Set([SUITE_AES256_GCM_HKDF_SHA512_COMMIT]);

export const MESSAGE_ID_LENGTH = 32;
export const DEK_LENGTH = 32;
export const COMMITMENT_LENGTH = 32;
export const TAG_LENGTH = 16;
export const NONCE_LENGTH = 12;

/** magic + version + suite + message id + frame length + context length. */
export const FIXED_PREFIX_LENGTH = 4 + 1 + 2 + MESSAGE_ID_LENGTH + 4 + 2;

/** The largest frame length the format can express sensibly (1 GiB); limits are lower. */
export const FORMAT_MAX_FRAME_LENGTH = 1024 * 1024 * 1024;
/** Frame sequence numbers are u32 and start at 1; 0 is the header tag's nonce. */
export const MAX_FRAME_COUNT = 0xffff_ffff;

export const FRAME_MARKER_REGULAR = 0x00;
export const FRAME_MARKER_FINAL = 0x01;
/** marker */
export const REGULAR_FRAME_OVERHEAD = 1 + TAG_LENGTH;
/** marker + u32 plaintext length */
export const FINAL_FRAME_HEADER_LENGTH = 1 + 4;
export const FINAL_FRAME_OVERHEAD = FINAL_FRAME_HEADER_LENGTH + TAG_LENGTH;

/** Provider ids: 1..64 bytes of [a-z0-9-]. */
export const PROVIDER_ID_PATTERN = /^[a-z0-9][a-z0-9-]{0,63}$/;

/** Measured default: see docs/performance.md. */
export const DEFAULT_FRAME_LENGTH = 1024 * 1024;
