import {
  appendFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  renameSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyring, decrypt, EnvelopeError, encrypt } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../src/index.js";

function tempPath() {
  return join(mkdtempSync(join(tmpdir(), "kms-envelope-audit-")), "keystore.json");
}

async function failureOf(action: () => unknown): Promise<EnvelopeError> {
  try {
    await action();
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return error as EnvelopeError;
  }
  throw new Error("expected a failure");
}

/** Every spelling of `secret` a leak could take. */
function spellings(secret: Uint8Array): string[] {
  const bytes = Buffer.from(secret);
  return [
    bytes.toString("hex"),
    bytes.toString("base64").replace(/=+$/, ""),
    bytes.toString("base64url"),
    bytes.toString("latin1"),
  ].flatMap((text) => [text, text.slice(0, 8), text.slice(-8)]);
}

/** The error's messages, causes and failures, as text. */
function errorText(error: unknown, depth = 0): string {
  if (depth > 8 || error === undefined || error === null) return "";
  if (!(error instanceof Error)) return String(error);
  const envelope =
    error instanceof EnvelopeError ? error.failures.map((f) => errorText(f.error, depth + 1)) : [];
  return [error.message, error.stack ?? "", errorText(error.cause, depth + 1), ...envelope].join("\n");
}

const context = { app: "audit" };

describe("keystore audit log", () => {
  it("order is change then audit: a saved change whose record cannot be written is KEYSTORE_ERROR saying so", async () => {
    const path = tempPath();
    const keystore = openKeystore({ path });
    mkdirSync(keystore.auditLogPath); // appending to a directory fails
    const failure = await failureOf(() => keystore.create("alpha"));
    expect(failure.code).toBe("KEYSTORE_ERROR");
    expect(failure.message).toContain("was saved");
    expect(keystore.get("alpha").primaryVersion).toBe(1);
  });

  it("a failed change whose record cannot be written is KEYSTORE_ERROR with the failure as cause", async () => {
    const keystore = openKeystore({ path: tempPath() });
    mkdirSync(keystore.auditLogPath);
    const failure = await failureOf(() => keystore.rotate("missing"));
    expect(failure.code).toBe("KEYSTORE_ERROR");
    expect((failure.cause as EnvelopeError).code).toBe("KEY_NOT_FOUND");
  });

  it("no wrap or unwrap result leaves without its audit record: encrypt and decrypt fail with KEYSTORE_ERROR", async () => {
    const path = tempPath();
    const keystore = openKeystore({ path });
    keystore.create("alpha");
    const keyring = createKeyring({ primary: keystore.kek("alpha") });
    const envelope = await encrypt(Buffer.from("data"), { keyring, context });
    renameSync(keystore.auditLogPath, `${keystore.auditLogPath}.saved`);
    mkdirSync(keystore.auditLogPath);
    expect((await failureOf(() => encrypt(Buffer.from("x"), { keyring, context }))).code).toBe(
      "KEYSTORE_ERROR",
    );
    const failed = await failureOf(() => decrypt(envelope, { keyring }));
    expect(failed.code).toBe("NO_USABLE_KEY");
    expect(failed.failures.map((entry) => entry.error.code)).toEqual(["KEYSTORE_ERROR"]);
    rmSync(keystore.auditLogPath, { recursive: true });
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext).toString()).toBe("data");
  });

  it("a damaged line is reported by number and skipped; the records around it still read", () => {
    const keystore = openKeystore({ path: tempPath() });
    keystore.create("alpha");
    appendFileSync(keystore.auditLogPath, '{"time":"2026-01-01T00:00:00.000Z","operat');
    appendFileSync(keystore.auditLogPath, "\n");
    appendFileSync(keystore.auditLogPath, '{"time":1}\n');
    keystore.rotate("alpha");
    const contents = keystore.readAudit();
    expect(contents.damagedLines).toEqual([2, 3]);
    expect(contents.records.map((record) => `${record.operation}:${record.outcome}`)).toEqual([
      "create:ok",
      "rotate:ok",
    ]);
    expect(keystore.audit()).toEqual(contents.records);
  });
});

describe("keystore parse errors", () => {
  it("a syntax error inside key material puts no file content in the message or cause chain", async () => {
    const path = tempPath();
    const keystore = openKeystore({ path });
    keystore.create("alpha");
    const text = readFileSync(path, "utf8");
    const material = /"material": "([^"]+)"/.exec(text)![1]!;
    const secret = Buffer.from(material, "base64");
    // Break the JSON in the middle of the key material, as a torn edit would.
    const broken = text.replace(material, `${material.slice(0, 20)}"${material.slice(20)}`);
    writeFileSync(path, broken);
    const failure = await failureOf(() => openKeystore({ path }).list());
    expect(failure.code).toBe("KEYSTORE_ERROR");
    const reported = errorText(failure);
    for (const spelling of [...spellings(secret), material.slice(0, 10), material.slice(20, 30)])
      expect(reported).not.toContain(spelling);
    expect(failure.cause).toBeUndefined();
  });
});
