import { hkdfSync, randomBytes, randomInt } from "node:crypto";
import { describe, expect, it } from "vitest";
import { deriveKeys } from "../src/crypto/derive.js";

// crypto/derive.ts writes HKDF-SHA512 out as HMAC calls over its own scratch buffers (for
// speed). Node's hkdfSync (OpenSSL) is the outside reference: on random inputs both must give
// the same frame key and commitment (docs/format.md, "Keys").
function reference(dek: Uint8Array, messageId: Uint8Array, label: string, suite: number): Buffer {
  const info = Buffer.concat([Buffer.from(label, "ascii"), Buffer.from([suite >> 8, suite & 0xff])]);
  return Buffer.from(hkdfSync("sha512", dek, messageId, info, 32));
}

describe("HKDF-SHA512 in crypto/derive.ts against crypto.hkdfSync", () => {
  it("agrees on 2,000 random DEKs, message ids and suites", () => {
    for (let i = 0; i < 2000; i++) {
      const dek = randomBytes(32);
      const messageId = randomBytes(32);
      const suite = i % 2 === 0 ? 0x0001 : randomInt(0, 0x10000);
      const { frameKey, commitment } = deriveKeys(dek, messageId, suite);
      expect(frameKey.export().toString("hex")).toBe(
        reference(dek, messageId, "kms-envelope v1 frame key", suite).toString("hex"),
      );
      expect(Buffer.from(commitment).toString("hex")).toBe(
        reference(dek, messageId, "kms-envelope v1 key commitment", suite).toString("hex"),
      );
    }
  });

  it("one fixed answer, computed outside Node (Python's hmac/hashlib, RFC 5869 by hand)", () => {
    // all-zero DEK and message id, suite 1
    const { frameKey, commitment } = deriveKeys(new Uint8Array(32), new Uint8Array(32), 1);
    expect(frameKey.export().toString("hex")).toBe(
      "155d268e4df93d941b96e4ebac8016a3bcc705ab71bb1ece34e122b8ee1fbc72",
    );
    expect(Buffer.from(commitment).toString("hex")).toBe(
      "6a4ea7a60bdc9e04296da856026c1996b43c705ab1a89986b8c4561805b1d208",
    );
  });
});
