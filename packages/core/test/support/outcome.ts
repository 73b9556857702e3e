import { isEnvelopeError } from "../../src/index.js";

export type Outcome = { readonly plaintext: string } | { readonly code: string };

/** What an operation came to: its plaintext as hex, or its error code (anything untyped is a test failure). */
export async function outcome(run: () => Promise<Uint8Array>): Promise<Outcome> {
  try {
    return { plaintext: Buffer.from(await run()).toString("hex") };
  } catch (error) {
    if (isEnvelopeError(error)) return { code: error.code };
    throw error;
  }
}
