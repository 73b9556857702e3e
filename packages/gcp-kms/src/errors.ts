import { type ErrorCode, type KmsErrorTable, networkErrorCode } from "@kms-envelope/core";

/**
 * The one table from Cloud KMS status to core code, every google.rpc.Code in
 * numeric order: a gRPC error's numeric `code` is its position, from CANCELLED = 1
 * to UNAUTHENTICATED = 16. gax gives gRPC and REST errors the same `code`, so both
 * transports map identically. INVALID_ARGUMENT is refined per operation below: on a
 * decrypt it means the ciphertext or its AAD is wrong, which is what TAMPERED means.
 */
export const STATUS_TO_CODE: Readonly<Record<string, ErrorCode>> = {
  CANCELLED: "ABORTED",
  UNKNOWN: "KMS_ERROR",
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
  DEADLINE_EXCEEDED: "KMS_UNAVAILABLE",
  NOT_FOUND: "KEY_NOT_FOUND",
  ALREADY_EXISTS: "KMS_ERROR",
  PERMISSION_DENIED: "KEY_ACCESS_DENIED",
  RESOURCE_EXHAUSTED: "KMS_THROTTLED",
  // Disabled, destroyed or scheduled-for-destruction versions, and keys without a primary.
  FAILED_PRECONDITION: "KEY_DISABLED",
  ABORTED: "KMS_ERROR",
  OUT_OF_RANGE: "INVALID_ARGUMENT",
  UNIMPLEMENTED: "KMS_ERROR",
  INTERNAL: "KMS_ERROR",
  UNAVAILABLE: "KMS_UNAVAILABLE",
  DATA_LOSS: "KMS_INTEGRITY",
  UNAUTHENTICATED: "KEY_ACCESS_DENIED",
};

/** HTTP status -> gRPC status, as Google's REST frontends pair them (google.rpc.Code). */
const HTTP_TO_STATUS: Readonly<Record<number, string>> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  409: "ABORTED",
  429: "RESOURCE_EXHAUSTED",
  499: "CANCELLED",
  500: "INTERNAL",
  501: "UNIMPLEMENTED",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/**
 * The gRPC status name of a client error, and the service's message. gax 6 gives REST errors
 * the gRPC `code`; gax 5 (@google-cloud/kms 5) leaves the HTTP status in `code` and the
 * google.rpc.Status JSON body in `message`, decoded here too so both majors map the same way.
 */
export function statusOf(error: unknown): { status: string; detail: string } | undefined {
  const { code, details, message } = (error ?? {}) as Record<string, unknown>;
  const text = typeof message === "string" ? message : "";
  const name = typeof code === "number" ? Object.keys(STATUS_TO_CODE)[code - 1] : undefined; // its place in the table
  // gRPC errors carry the service's message in `details`; REST ones in `message`.
  if (name !== undefined) {
    return { status: name, detail: typeof details === "string" && details !== "" ? details : text };
  }
  try {
    const body = JSON.parse(text) as { error?: { status?: unknown; message?: unknown } };
    if (typeof body.error?.status === "string") {
      return { status: body.error.status, detail: String(body.error.message ?? "") };
    }
  } catch {
    // Not a JSON body: fall back on the HTTP status, if any.
  }
  const http = HTTP_TO_STATUS[typeof code === "number" ? code : -1];
  return http === undefined ? undefined : { status: http, detail: text };
}

/**
 * The error table: by gRPC status (REST errors decoded to the same), with INVALID_ARGUMENT
 * refined per operation. No status means the call never reached Cloud KMS: a network failure
 * (gax 5 over REST) is left to the kit, which makes it KMS_UNAVAILABLE as gax 6 does; anything
 * else (no credentials, a bad endpoint, a client bug) is KMS_ERROR with the client's message.
 */
export const gcpKmsErrors: KmsErrorTable = (error, operation) => {
  const found = statusOf(error);
  if (found === undefined && networkErrorCode(error) !== undefined) return undefined;
  if (found === undefined) {
    return { code: "KMS_ERROR", detail: error instanceof Error ? error.message.slice(0, 300) : typeof error };
  }
  const { status } = found;
  let code: ErrorCode = STATUS_TO_CODE[status] ?? "KMS_ERROR";
  if (status === "INVALID_ARGUMENT" && /checksum/i.test(found.detail)) {
    // Cloud KMS saw other bytes than we checksummed: corrupted in transit.
    code = "KMS_INTEGRITY";
  } else if (status === "INVALID_ARGUMENT" && operation.endsWith("Decrypt")) {
    code = "TAMPERED"; // on Decrypt and AsymmetricDecrypt
  }
  // INTERNAL and UNKNOWN are transient per Google's guidance; integrity failures are worth one more try.
  const retryable = status === "INTERNAL" || status === "UNKNOWN" || code === "KMS_INTEGRITY" || undefined;
  return { code, detail: `${status}: ${found.detail.slice(0, 300)}`, retryable };
};
