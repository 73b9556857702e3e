/**
 * Fields SDK errors use for the request and response they failed on: gaxios
 * keeps the request body (an Encrypt's DEK, base64) under `config`, Azure's
 * RestError keeps `request` and `response`, the AWS SDK `$response`.
 */
const REQUEST_FIELDS: ReadonlySet<string> = new Set([
  "config",
  "request",
  "response",
  "requestOptions",
  "$response",
]);

const MAX_DEPTH = 8;

/**
 * A copy of an SDK error that keeps what a caller acts on (name, message,
 * stack, `code`, status, service details, the `cause` chain, likewise
 * copied) and drops request and response data, so no `cause` handed out can
 * carry key material. Only own enumerable fields are copied, so hidden ones
 * (Azure's `request`) never come along. The SDK's own object is not changed.
 */
export function stripRequestData(error: unknown, depth = 0): unknown {
  if (!(error instanceof Error) || depth > MAX_DEPTH) return error;
  const copy = new Error(error.message);
  copy.name = error.name;
  if (error.stack !== undefined) copy.stack = error.stack;
  for (const field of Object.keys(error)) {
    if (REQUEST_FIELDS.has(field) || field === "cause") continue;
    (copy as unknown as Record<string, unknown>)[field] = (error as unknown as Record<string, unknown>)[
      field
    ];
  }
  if (error.cause !== undefined) {
    Object.defineProperty(copy, "cause", {
      value: stripRequestData(error.cause, depth + 1),
      configurable: true,
      writable: true,
    });
  }
  return copy;
}
