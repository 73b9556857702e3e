import { EnvelopeError, isAbortError, isEnvelopeError, throwIfAborted } from "../errors.js";
import { invalid, requireObject, requireString } from "../validate.js";
import { type KmsErrorTable, type KmsFailure, networkErrorCode } from "./error-table.js";
import { stripRequestData } from "./strip-cause.js";
import { untilAborted } from "./until-aborted.js";

export interface KmsCallerOptions {
  /** The service as messages name it: "AWS KMS", "Cloud KMS", "Key Vault". */
  readonly service: string;
  readonly classify: KmsErrorTable;
  /**
   * A deadline per call, in milliseconds, on top of the SDK's own timeouts:
   * past it the call is abandoned as `KMS_UNAVAILABLE` (retryable). Default: none.
   */
  readonly deadlineMs?: number | undefined;
}

/**
 * Runs one KMS call. `run` gets the signal to hand to the SDK (the caller's,
 * combined with the deadline), so the SDK cancels the request and its retries.
 */
export type KmsCall = <T>(
  operation: string,
  keyId: string,
  signal: AbortSignal | undefined,
  run: (signal: AbortSignal | undefined) => Promise<T>,
) => Promise<T>;

/**
 * The one way a provider calls its KMS: refuse to start once the caller's
 * signal has fired; return at once when it fires mid-call (even from an SDK
 * that ignores its signal); classify a failure through the provider's table
 * into an `EnvelopeError` naming service, operation and key; and keep the
 * SDK error as `cause` with request and response data stripped (see
 * stripRequestData). An `EnvelopeError` thrown inside `run` passes unchanged.
 */
export function createKmsCaller(options: KmsCallerOptions): KmsCall {
  requireObject(options, "createKmsCaller");
  const { service, classify, deadlineMs } = options;
  requireString(service, "createKmsCaller", "service");
  if (typeof classify !== "function") invalid("createKmsCaller", "classify must be a function");
  if (deadlineMs !== undefined && !(Number.isSafeInteger(deadlineMs) && deadlineMs > 0)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "deadlineMs must be a positive integer");
  }
  return async (operation, keyId, signal, run) => {
    throwIfAborted(signal);
    const deadline = deadlineMs === undefined ? undefined : AbortSignal.timeout(deadlineMs);
    const combined =
      deadline === undefined ? signal : signal === undefined ? deadline : AbortSignal.any([signal, deadline]);
    try {
      return await untilAborted(
        Promise.resolve().then(() => run(combined)),
        combined,
      );
    } catch (error) {
      if (signal?.aborted === true) {
        throw new EnvelopeError("ABORTED", `${service} ${operation} was aborted`, {
          cause: stripRequestData(isEnvelopeError(error) ? signal.reason : error),
        });
      }
      if (deadline?.aborted === true) {
        throw new EnvelopeError(
          "KMS_UNAVAILABLE",
          `${service} ${operation} with ${keyId} got no answer within ${deadlineMs} ms`,
          { cause: stripRequestData(isEnvelopeError(error) ? deadline.reason : error) },
        );
      }
      throw kmsError(service, operation, keyId, error, classify);
    }
  };
}

/** The typed error for one failed call (what createKmsCaller throws), for a failure outside a call. */
export function kmsError(
  service: string,
  operation: string,
  keyId: string,
  error: unknown,
  classify: KmsErrorTable,
): EnvelopeError {
  requireString(service, "kmsError", "service");
  requireString(operation, "kmsError", "operation");
  requireString(keyId, "kmsError", "keyId");
  if (typeof classify !== "function") invalid("kmsError", "classify must be a function");
  if (isEnvelopeError(error)) return error;
  const cause = stripRequestData(error);
  const known = classify(error, operation);
  // An abort the table does not place (a table may call the SDK's TimeoutError KMS_UNAVAILABLE).
  if (known === undefined && isAbortError(error)) {
    return new EnvelopeError("ABORTED", `${service} ${operation} was aborted`, { cause });
  }
  const network = known === undefined ? networkErrorCode(error) : undefined;
  const failure: KmsFailure =
    known ?? (network === undefined ? { code: "KMS_ERROR" } : { code: "KMS_UNAVAILABLE", detail: network });
  const detail = failure.detail ?? (error instanceof Error ? error.name : typeof error);
  return new EnvelopeError(failure.code, `${service} ${operation} with ${keyId} failed: ${detail}`, {
    cause,
    ...(failure.retryable === undefined ? {} : { retryable: failure.retryable }),
    ...(failure.retryAfterMs === undefined ? {} : { retryAfterMs: failure.retryAfterMs }),
  });
}
