import { EnvelopeError, isEnvelopeError } from "@kms-envelope/core";
import { CliIoError } from "./cli-errors.js";
import { type CliCode, EXIT_STATUS } from "./exit-codes.js";

const NETWORK_IN_TEXT = /\b(E[A-Z]{4,}|ETIMEDOUT)\b[ :]+((?:\[[0-9a-f:]+\]|[\w.-]+):\d+)/;

/**
 * The network failure under an error, as `ECONNREFUSED 127.0.0.1:4566`: from
 * a Node system error's fields anywhere in the `cause` chain (or an
 * AggregateError's members), else from the text a gRPC status carries.
 */
export function networkDetail(error: unknown, depth = 0): string | undefined {
  if (depth > 8 || typeof error !== "object" || error === null) return undefined;
  const value = error as {
    code?: unknown;
    address?: unknown;
    port?: unknown;
    hostname?: unknown;
    message?: unknown;
    cause?: unknown;
    errors?: unknown;
    details?: unknown;
  };
  if (typeof value.code === "string" && /^E[A-Z]+$/.test(value.code)) {
    if (typeof value.address === "string") {
      const host = value.address.includes(":") ? `[${value.address}]` : value.address;
      return value.port === undefined
        ? `${value.code} ${host}`
        : `${value.code} ${host}:${String(value.port)}`;
    }
    if (typeof value.hostname === "string") return `${value.code} ${value.hostname}`;
  }
  if (Array.isArray(value.errors)) {
    for (const member of value.errors) {
      const found = networkDetail(member, depth + 1);
      if (found !== undefined) return found;
    }
  }
  const nested = networkDetail(value.cause, depth + 1);
  if (nested !== undefined) return nested;
  for (const text of [value.message, value.details]) {
    if (typeof text !== "string") continue;
    const match = NETWORK_IN_TEXT.exec(text);
    if (match !== null) return `${match[1]} ${match[2]}`;
  }
  return undefined;
}

/** Codes that say why every key failed better than `NO_USABLE_KEY` does. */
const SHARED_CAUSES = new Set(["KEYSTORE_ERROR", "KMS_UNAVAILABLE", "KMS_THROTTLED"]);

/**
 * A `NO_USABLE_KEY` whose every attempt failed the same way (the keystore is
 * unreadable, the KMS unreachable) is reported as that, with its status.
 */
function refine(error: EnvelopeError): EnvelopeError {
  if (error.code !== "NO_USABLE_KEY" || error.failures.length === 0) return error;
  const code = error.failures[0]!.error.code;
  if (!SHARED_CAUSES.has(code) || !error.failures.every((failure) => failure.error.code === code))
    return error;
  if (code === "KEYSTORE_ERROR") return error.failures[0]!.error;
  return new EnvelopeError(code, error.message, { cause: error.cause, failures: error.failures });
}

function describe(error: EnvelopeError): string {
  let message = error.message;
  const network = networkDetail(error.cause);
  if (network !== undefined && !message.includes(network)) message += ` (${network})`;
  const details = error.failures
    .map((failure) => {
      const detail =
        networkDetail(failure.error) ??
        (failure.error.code === "KEY_NOT_FOUND" || failure.error.code === "KEY_DISABLED"
          ? failure.error.message
          : undefined);
      return detail === undefined ? undefined : `${failure.provider}:${failure.keyId}: ${detail}`;
    })
    .filter((line) => line !== undefined);
  if (details.length > 0) message += `; ${details.join("; ")}`;
  return message.replace(/\s*\n\s*/g, " ");
}

export interface ErrorReport {
  readonly code: CliCode;
  readonly status: number;
  readonly line: string;
}

/** One line, the code first, and the documented status. Never a stack trace. */
export function reportError(error: unknown): ErrorReport {
  if (isEnvelopeError(error)) {
    const refined = refine(error);
    return {
      code: refined.code,
      status: EXIT_STATUS[refined.code],
      line: `kms-envelope: error ${refined.code}: ${describe(refined)}`,
    };
  }
  if (error instanceof CliIoError) {
    return {
      code: "IO_ERROR",
      status: EXIT_STATUS.IO_ERROR,
      line: `kms-envelope: error IO_ERROR: ${error.message}`,
    };
  }
  const text = error instanceof Error ? error.message : String(error);
  return {
    code: "UNEXPECTED",
    status: EXIT_STATUS.UNEXPECTED,
    line: `kms-envelope: error UNEXPECTED: ${text.split("\n")[0]}`,
  };
}
