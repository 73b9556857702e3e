import { createCipheriv, createDecipheriv, randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { canonicalContextBytes } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../src/index.js";

// docs/providers/local.md, "Formats": a keystore file written from that page alone is read by
// openKeystore, and the keystore KEK's wrapped keys are exactly the documented bytes (checked
// with plain node:crypto in both directions).
const CONTEXT = { tenant: "acme", "\ufeffb": "é" };

function documentedAad(keyId: string, version: number): Buffer {
  const id = Buffer.from(keyId, "utf8");
  const head = Buffer.alloc(2 + id.length + 4);
  head.writeUInt16BE(id.length, 0);
  id.copy(head, 2);
  head.writeUInt32BE(version, 2 + id.length);
  return Buffer.concat([Buffer.from("kms-envelope local v1", "ascii"), head, canonicalContextBytes(CONTEXT)]);
}

function writeDocumentedKeystore() {
  const material = { 1: randomBytes(32), 2: randomBytes(32) };
  const path = join(mkdtempSync(join(tmpdir(), "kmse-format-")), "keystore.json");
  const createdAt = "2026-12-01T10:00:00.000Z";
  const file = {
    format: "kms-envelope-keystore",
    version: 1,
    keys: {
      app: {
        name: "app",
        createdAt,
        state: "enabled",
        primaryVersion: 2,
        versions: [
          { version: 1, createdAt, material: material[1].toString("base64") },
          { version: 2, createdAt, material: material[2].toString("base64") },
        ],
      },
    },
  };
  writeFileSync(path, `${JSON.stringify(file)}\n`, { mode: 0o600 });
  return { path, material };
}

describe("keystore file and wrap formats (docs/providers/local.md)", () => {
  it("a wrapped key is u32 version ‖ nonce ‖ GCM(DEK) ‖ tag under the primary version, with the documented AAD", async () => {
    const { path, material } = writeDocumentedKeystore();
    const kek = openKeystore({ path }).kek("app");
    const dek = randomBytes(32);
    const { keyId, wrapped } = await kek.wrap(Buffer.from(dek), CONTEXT);
    expect(keyId).toBe("app");
    const bytes = Buffer.from(wrapped);
    expect(bytes.length).toBe(64);
    expect(bytes.readUInt32BE(0)).toBe(2);
    const decipher = createDecipheriv("aes-256-gcm", material[2], bytes.subarray(4, 16));
    decipher.setAAD(documentedAad("app", 2));
    decipher.setAuthTag(bytes.subarray(48));
    const opened = Buffer.concat([decipher.update(bytes.subarray(16, 48)), decipher.final()]);
    expect(opened.equals(dek)).toBe(true);
  });

  it("unwraps a key wrapped by hand under an older version", async () => {
    const { path, material } = writeDocumentedKeystore();
    const kek = openKeystore({ path }).kek("app");
    const dek = randomBytes(32);
    const nonce = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", material[1], nonce);
    cipher.setAAD(documentedAad("app", 1));
    const body = Buffer.concat([cipher.update(dek), cipher.final()]);
    const version = Buffer.alloc(4);
    version.writeUInt32BE(1);
    const wrapped = Buffer.concat([version, nonce, body, cipher.getAuthTag()]);
    const unwrapped = await kek.unwrap({ provider: "local", keyId: "app", wrapped }, CONTEXT);
    expect(Buffer.from(unwrapped).equals(dek)).toBe(true);
  });
});
