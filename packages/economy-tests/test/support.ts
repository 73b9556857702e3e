import { EnvelopeError } from "@kms-envelope/core";

/** The code an operation ended with, or "ok". Anything untyped fails the test. */
export async function outcome(run: Promise<unknown>): Promise<string> {
  try {
    await run;
    return "ok";
  } catch (error) {
    if (error instanceof EnvelopeError) return error.code;
    throw error;
  }
}

export async function rejection(run: Promise<unknown>): Promise<EnvelopeError> {
  const error = await run.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  if (!(error instanceof EnvelopeError)) throw new Error(`expected an EnvelopeError, got ${String(error)}`);
  return error;
}

export const CONTEXT = { tenant: "acme", purpose: "economy" };
