import type { ErrorCode } from "@kms-envelope/core";

/** What the CLI reports besides the library's codes. */
export type CliCode = ErrorCode | "IO_ERROR" | "UNEXPECTED";

/** Exit statuses (docs/cli.md): stable, one per family of failure. */
export const EXIT_STATUS: Readonly<Record<CliCode, number>> = Object.freeze({
  INVALID_ARGUMENT: 2,
  PROVIDER_NOT_INSTALLED: 2,
  NO_USABLE_KEY: 3,
  KEY_ACCESS_DENIED: 3,
  KEY_NOT_FOUND: 3,
  KEY_DISABLED: 3,
  KEY_ID_MISMATCH: 3,
  TAMPERED: 4,
  MALFORMED: 4,
  UNSUPPORTED_VERSION: 4,
  UNSUPPORTED_SUITE: 4,
  LIMIT_EXCEEDED: 4,
  CONTEXT_MISMATCH: 5,
  KMS_THROTTLED: 6,
  KMS_UNAVAILABLE: 6,
  KMS_INTEGRITY: 6,
  KMS_ERROR: 6,
  ABORTED: 7,
  KEYSTORE_ERROR: 8,
  IO_ERROR: 9,
  UNEXPECTED: 1,
});

/** A closed standard output (`| head`): quiet, with the status a shell gives a process SIGPIPE ended. */
export const BROKEN_PIPE_STATUS = 141;
