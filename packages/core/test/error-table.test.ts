import { createServer, request } from "node:http";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { httpStatusFailure, kmsError, networkErrorCode } from "../src/index.js";

const nothingKnown = () => undefined;

/** A real socket error: a request to a loopback port nobody listens on (a server opened, then closed). */
async function refusedConnectionError(): Promise<Error> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return new Promise((resolve) => {
    request({ host: "127.0.0.1", port }).on("error", resolve).end();
  });
}

describe("networkErrorCode and kmsError's fallback for errors a table leaves unplaced", () => {
  it("a refused loopback connection (node:http's own error) is KMS_UNAVAILABLE, retryable, naming the code", async () => {
    const socketError = await refusedConnectionError();
    expect(networkErrorCode(socketError)).toBe("ECONNREFUSED");
    const error = kmsError("Test KMS", "Decrypt", "key-1", socketError, nothingKnown);
    expect([error.code, error.retryable]).toEqual(["KMS_UNAVAILABLE", true]);
    expect(error.message).toBe("Test KMS Decrypt with key-1 failed: ECONNREFUSED");
  });

  it("finds the code on a cause, as fetch wraps it (TypeError: fetch failed)", async () => {
    const wrapped = new TypeError("fetch failed", { cause: { code: "UND_ERR_SOCKET" } });
    expect(networkErrorCode(wrapped)).toBe("UND_ERR_SOCKET");
    expect(kmsError("Test KMS", "Encrypt", "k", wrapped, nothingKnown).code).toBe("KMS_UNAVAILABLE");
  });

  it("a code that is not a network failure stays KMS_ERROR, and the table's answer wins", () => {
    const local = Object.assign(new Error("no such file"), { code: "ENOENT" });
    expect(networkErrorCode(local)).toBeUndefined();
    expect(kmsError("Test KMS", "Encrypt", "k", local, nothingKnown).code).toBe("KMS_ERROR");
    const reset = Object.assign(new Error("reset"), { code: "ECONNRESET" });
    const placed = kmsError("Test KMS", "Encrypt", "k", reset, () => ({ code: "KMS_THROTTLED" }));
    expect(placed.code).toBe("KMS_THROTTLED");
  });

  it("looks no deeper than four errors (a cause cycle ends)", () => {
    const cyclic: { code: string; cause?: unknown } = { code: "EOTHER" };
    cyclic.cause = cyclic;
    expect(networkErrorCode(cyclic)).toBeUndefined();
    const deep = { cause: { cause: { cause: { cause: { code: "ECONNRESET" } } } } };
    expect(networkErrorCode(deep)).toBeUndefined();
    expect(networkErrorCode("ECONNRESET")).toBeUndefined();
  });
});

describe("httpStatusFailure", () => {
  it("maps 401 and 403 to KEY_ACCESS_DENIED and 404 to KEY_NOT_FOUND", () => {
    expect(httpStatusFailure(401, "401")).toEqual({ code: "KEY_ACCESS_DENIED", detail: "401" });
    expect(httpStatusFailure(403, "403")).toEqual({ code: "KEY_ACCESS_DENIED", detail: "403" });
    expect(httpStatusFailure(404, "404")).toEqual({ code: "KEY_NOT_FOUND", detail: "404" });
  });

  it("maps 429 to KMS_THROTTLED and 5xx to KMS_UNAVAILABLE, with the Retry-After delay when one was sent", () => {
    expect(httpStatusFailure(429, "busy", "7")).toEqual({
      code: "KMS_THROTTLED",
      detail: "busy",
      retryAfterMs: 7000,
    });
    expect(httpStatusFailure(503, "down", "2")).toEqual({
      code: "KMS_UNAVAILABLE",
      detail: "down",
      retryAfterMs: 2000,
    });
    expect(httpStatusFailure(500, "oops", "soon")).toEqual({ code: "KMS_UNAVAILABLE", detail: "oops" });
  });

  it("places no other status (the table decides, else KMS_ERROR)", () => {
    for (const status of [200, 400, 409, 412, 600, undefined, "503"]) {
      expect(httpStatusFailure(status, "x")).toBeUndefined();
    }
  });
});
