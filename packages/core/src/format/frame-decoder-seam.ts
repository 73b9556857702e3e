/**
 * Test seam, deliberately not exported from any entry point: the sequence
 * number a new FrameDecoder starts at, so a test can reach the frame-count
 * limit (2^32 - 1 frames) with a few bytes. Production code never changes it.
 */
export const frameDecoderSeam = { firstSequence: 1 };
