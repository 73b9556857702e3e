import { Agent as HttpAgent, request as httpRequest } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import { setTimeout as sleep } from "node:timers/promises";
import { EnvelopeError } from "@kms-envelope/core";

/**
 * A Vault answer that was not 2xx: its status and Vault's own error texts
 * (`{"errors":[…]}`). It carries no request data: the request body (a DEK on
 * encrypt) and the token never reach an error.
 */
export class VaultResponseError extends Error {
  override readonly name = "VaultResponseError";
  constructor(
    readonly status: number,
    readonly errors: readonly string[],
    /** "POST transit/encrypt/orders": method and path (no body, no token). */
    readonly request: string,
    /** Seconds from a 429's Retry-After. */
    readonly retryAfter: number | undefined,
  ) {
    super(`${status} from Vault on ${request}: ${errors.length > 0 ? errors.join("; ") : "(no error text)"}`);
  }
}

export interface VaultHttpOptions {
  /** "https://host:port" (or http:// on loopback). */
  readonly origin: string;
  /** PEM bundle to trust instead of the system CAs. */
  readonly ca?: string | undefined;
  /** Sent as X-Vault-Namespace on every request (logins included). */
  readonly namespace?: string | undefined;
  /** Retries of a 429, 412, 5xx or dropped connection (default 2). */
  readonly maxRetries?: number | undefined;
  /** Socket inactivity limit per request (default 30 s). */
  readonly timeoutMs?: number | undefined;
}

export interface VaultRequest {
  readonly method: "GET" | "POST";
  /** Path below /v1/. */
  readonly path: string;
  /** Serialized by the caller so it can zero the bytes (they may hold a DEK) once sent. */
  readonly body?: Buffer | undefined;
  readonly token?: string | undefined;
  readonly signal?: AbortSignal | undefined;
}

export interface VaultHttp {
  /** The parsed JSON answer of a 2xx (`{}` for a 204); throws VaultResponseError otherwise. */
  send(request: VaultRequest): Promise<Record<string, unknown>>;
  close(): void;
}

const RETRY_STATUS = new Set([412, 429, 500, 502, 503, 504]);
const MAX_ANSWER = 1 << 20;

/**
 * Vault's HTTP API over node:http / node:https: global fetch has no way to
 * trust a private CA per client (only NODE_EXTRA_CA_CERTS, process-wide),
 * and undici would be a dependency; node:https takes `ca` and an AbortSignal.
 */
export function createVaultHttp(options: VaultHttpOptions): VaultHttp {
  const secure = options.origin.startsWith("https:");
  const agent: HttpAgent = secure
    ? new HttpsAgent({ keepAlive: true, ...(options.ca === undefined ? {} : { ca: options.ca }) })
    : new HttpAgent({ keepAlive: true });
  const maxRetries = options.maxRetries ?? 2;
  const timeoutMs = options.timeoutMs ?? 30_000;

  function once(req: VaultRequest): Promise<Record<string, unknown>> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (req.token !== undefined) headers["X-Vault-Token"] = req.token;
    if (options.namespace !== undefined && options.namespace !== "") {
      headers["X-Vault-Namespace"] = options.namespace;
    }
    if (req.body !== undefined) {
      headers["Content-Type"] = "application/json";
      headers["Content-Length"] = String(req.body.length);
    }
    const label = `${req.method} ${req.path}`;
    return new Promise((resolve, reject) => {
      const send = secure ? httpsRequest : httpRequest;
      const outgoing = send(
        `${options.origin}/v1/${req.path}`,
        {
          method: req.method,
          headers,
          agent,
          timeout: timeoutMs,
          ...(req.signal ? { signal: req.signal } : {}),
        },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_ANSWER) res.destroy(new Error(`Vault answered more than ${MAX_ANSWER} bytes`));
            else chunks.push(chunk);
          });
          res.on("error", reject);
          res.on("end", () => {
            const raw = Buffer.concat(chunks);
            let parsed: unknown = {};
            try {
              parsed = raw.length === 0 ? {} : JSON.parse(raw.toString("utf8"));
            } catch {
              parsed = undefined;
            } finally {
              // A decrypt or datakey answer holds a DEK in base64: the copy we parsed is all that stays.
              raw.fill(0);
              for (const chunk of chunks) chunk.fill(0);
            }
            const status = res.statusCode ?? 0;
            if (status >= 200 && status < 300 && parsed !== null && typeof parsed === "object") {
              resolve(parsed as Record<string, unknown>);
              return;
            }
            const errors = (parsed as { errors?: unknown } | undefined)?.errors;
            const texts = Array.isArray(errors)
              ? errors.filter((e): e is string => typeof e === "string")
              : [];
            const retryAfter = Number(res.headers["retry-after"]);
            reject(
              new VaultResponseError(
                status,
                texts,
                label,
                Number.isFinite(retryAfter) ? retryAfter : undefined,
              ),
            );
          });
        },
      );
      outgoing.on("timeout", () =>
        outgoing.destroy(
          Object.assign(new Error(`no answer from Vault on ${label} within ${timeoutMs} ms`), {
            code: "ETIMEDOUT",
          }),
        ),
      );
      outgoing.on("error", reject);
      outgoing.end(req.body);
    });
  }

  return {
    async send(req) {
      for (let attempt = 0; ; attempt++) {
        try {
          return await once(req);
        } catch (error) {
          if (req.signal?.aborted === true) throw error;
          const retryable =
            error instanceof VaultResponseError
              ? RETRY_STATUS.has(error.status) && !error.errors.includes("Vault is sealed")
              : !(error instanceof EnvelopeError) && !isCertificateError(error);
          if (!retryable || attempt >= maxRetries) throw error;
          const hinted = error instanceof VaultResponseError ? error.retryAfter : undefined;
          const backoff = hinted !== undefined ? hinted * 1000 : 50 * 2 ** attempt;
          await sleep(Math.min(2000, backoff) * (0.5 + Math.random() / 2), undefined, {
            ...(req.signal ? { signal: req.signal } : {}),
          });
        }
      }
    },
    close: () => agent.destroy(),
  };
}

/** TLS verification failures are configuration, not an outage: no retry. */
export function isCertificateError(error: unknown): boolean {
  const code = (error as { code?: unknown } | undefined)?.code;
  return (
    typeof code === "string" &&
    (code.startsWith("CERT_") ||
      code.startsWith("ERR_TLS_") ||
      code === "UNABLE_TO_VERIFY_LEAF_SIGNATURE" ||
      code === "DEPTH_ZERO_SELF_SIGNED_CERT" ||
      code === "SELF_SIGNED_CERT_IN_CHAIN" ||
      code === "UNABLE_TO_GET_ISSUER_CERT_LOCALLY")
  );
}
