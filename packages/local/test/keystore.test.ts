import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyring, decrypt, EnvelopeError, encrypt } from "@kms-envelope/core";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../src/index.js";

function tempPath() {
  return join(mkdtempSync(join(tmpdir(), "kms-envelope-keystore-")), "keystore.json");
}

async function codeOf(promise: Promise<unknown> | (() => unknown)) {
  try {
    await (typeof promise === "function" ? promise() : promise);
  } catch (error) {
    expect(error).toBeInstanceOf(EnvelopeError);
    return (error as EnvelopeError).code;
  }
  throw new Error("expected a failure");
}

const context = { app: "test" };

describe("file keystore", () => {
  it("creates named keys and lists them without key material", () => {
    const keystore = openKeystore({ path: tempPath() });
    keystore.create("alpha");
    keystore.create("beta");
    const listed = keystore.list();
    expect(listed.map((key) => key.name)).toEqual(["alpha", "beta"]);
    expect(listed[0]).toMatchObject({ uri: "local://alpha", state: "enabled", primaryVersion: 1 });
    expect(JSON.stringify(listed)).not.toContain("material");
  });

  it("rejects duplicate and invalid names", async () => {
    const keystore = openKeystore({ path: tempPath() });
    keystore.create("alpha");
    expect(await codeOf(() => keystore.create("alpha"))).toBe("INVALID_ARGUMENT");
    expect(await codeOf(() => keystore.create("../escape"))).toBe("INVALID_ARGUMENT");
  });

  it('every keystore call validates its arguments: INVALID_ARGUMENT, never a TypeError or a key named "undefined"', async () => {
    const path = tempPath();
    const bad: (() => unknown)[] = [
      () => openKeystore(null as never),
      () => openKeystore("keystore.json" as never),
      () => openKeystore({ path: "" }),
      () => openKeystore({ path: 42 as never }),
      () => openKeystore({ path, now: "yesterday" as never }),
      () => openKeystore({ path, lock: { timeoutMs: -1 } }),
      () => openKeystore({ path, lock: { leaseMs: Number.NaN } }),
    ];
    const keystore = openKeystore({ path });
    keystore.create("alpha");
    for (const name of [undefined, null, 7, {}, "", "../x", "a".repeat(129)] as never[]) {
      bad.push(
        () => keystore.create(name),
        () => keystore.get(name),
        () => keystore.rotate(name),
        () => keystore.disable(name),
        () => keystore.enable(name),
        () => keystore.scheduleDeletion(name),
        () => keystore.cancelDeletion(name),
        () => keystore.kek(name),
      );
    }
    bad.push(() => keystore.scheduleDeletion("alpha", null as never));
    for (const call of bad) expect(await codeOf(call)).toBe("INVALID_ARGUMENT");
    expect(keystore.list().map((key) => key.name)).toEqual(["alpha"]);
  });

  it("writes the file with 0600 permissions and leaves no temp file", () => {
    const path = tempPath();
    const keystore = openKeystore({ path });
    keystore.create("alpha");
    keystore.rotate("alpha");
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(
      readdirSync(join(path, "..")).filter((name) => name.endsWith(".tmp") || name.endsWith(".lock")),
    ).toEqual([]);
  });

  it("rotate adds a primary version; older versions still unwrap; the wrapped key records the version", async () => {
    const keystore = openKeystore({ path: tempPath() });
    keystore.create("alpha");
    const keyring = createKeyring({ primary: keystore.kek("alpha") });
    const before = await encrypt(Buffer.from("v1 data"), { keyring, context });
    expect(keystore.rotate("alpha").primaryVersion).toBe(2);
    const after = await encrypt(Buffer.from("v2 data"), { keyring, context });
    expect(Buffer.from((await decrypt(before, { keyring })).plaintext).toString()).toBe("v1 data");
    expect(Buffer.from((await decrypt(after, { keyring })).plaintext).toString()).toBe("v2 data");
    const unwraps = keystore
      .audit()
      .filter((entry) => entry.operation === "unwrap" && entry.outcome === "ok");
    expect(unwraps.map((entry) => entry.version)).toEqual([1, 2]);
  });

  it("a disabled key neither wraps nor unwraps until enabled again", async () => {
    const keystore = openKeystore({ path: tempPath() });
    keystore.create("alpha");
    const keyring = createKeyring({ primary: keystore.kek("alpha") });
    const envelope = await encrypt(Buffer.from("data"), { keyring, context });
    keystore.disable("alpha");
    expect(await codeOf(encrypt(Buffer.from("x"), { keyring, context }))).toBe("KEY_DISABLED");
    const failure = (await decrypt(envelope, { keyring }).catch(
      (error: EnvelopeError) => error,
    )) as EnvelopeError;
    expect(failure.code).toBe("NO_USABLE_KEY");
    expect(failure.failures[0]?.error.code).toBe("KEY_DISABLED");
    keystore.enable("alpha");
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext).toString()).toBe("data");
  });

  it("schedules deletion after a waiting period (default 30 days, minimum 7) and can cancel it", async () => {
    let now = new Date("2026-01-01T00:00:00Z");
    const path = tempPath();
    const keystore = openKeystore({ path, now: () => now });
    keystore.create("alpha");
    const keyring = createKeyring({ primary: keystore.kek("alpha") });
    const envelope = await encrypt(Buffer.from("data"), { keyring, context });
    expect(await codeOf(() => keystore.scheduleDeletion("alpha", { waitingDays: 6 }))).toBe(
      "INVALID_ARGUMENT",
    );
    const scheduled = keystore.scheduleDeletion("alpha");
    expect(scheduled.state).toBe("pending-deletion");
    expect(scheduled.deletionDate).toBe("2026-01-31T00:00:00.000Z");
    expect(await codeOf(encrypt(Buffer.from("x"), { keyring, context }))).toBe("KEY_DISABLED");
    expect(keystore.cancelDeletion("alpha").state).toBe("enabled");
    expect(Buffer.from((await decrypt(envelope, { keyring })).plaintext).toString()).toBe("data");
    keystore.scheduleDeletion("alpha", { waitingDays: 7 });
    now = new Date("2026-01-08T00:00:01Z");
    expect(keystore.list()).toEqual([]);
    expect(await codeOf(() => keystore.get("alpha"))).toBe("KEY_NOT_FOUND");
    keystore.create("other"); // the next write purges the deleted key's material
    expect(readFileSync(path, "utf8")).not.toContain('"alpha"');
  });

  it("keeps an append-only audit log with no key material", async () => {
    const path = tempPath();
    const keystore = openKeystore({ path });
    keystore.create("alpha");
    keystore.rotate("alpha");
    keystore.disable("alpha");
    keystore.enable("alpha");
    await encrypt(Buffer.from("data"), {
      keyring: createKeyring({ primary: keystore.kek("alpha") }),
      context,
    });
    await codeOf(() => keystore.rotate("missing"));
    const records = keystore.audit();
    expect(records.map((record) => `${record.operation}:${record.outcome}`)).toEqual([
      "create:ok",
      "rotate:ok",
      "disable:ok",
      "enable:ok",
      "wrap:ok",
      "rotate:error",
    ]);
    expect(records.at(-1)?.code).toBe("KEY_NOT_FOUND");
    const materials = Object.values(
      JSON.parse(readFileSync(path, "utf8")).keys as Record<string, { versions: { material: string }[] }>,
    ).flatMap((key) => key.versions.map((version) => version.material));
    const log = readFileSync(keystore.auditLogPath, "utf8");
    for (const material of materials) expect(log).not.toContain(material);
    for (const record of records)
      expect(Object.keys(record).sort()).toEqual(
        expect.arrayContaining(["key", "operation", "outcome", "time"]),
      );
  });

  it("two processes writing at once never corrupt the file or lose an update", async () => {
    const path = tempPath();
    openKeystore({ path }).create("shared");
    const moduleUrl = new URL("../dist/index.js", import.meta.url).href;
    const writes = 25;
    const script = (label: string) => `
      const { openKeystore } = await import(${JSON.stringify(moduleUrl)});
      const keystore = openKeystore({ path: ${JSON.stringify(path)} });
      for (let i = 0; i < ${writes}; i++) { keystore.create("${label}-" + i); keystore.rotate("shared"); }
    `;
    const run = (label: string) =>
      new Promise<void>((resolve, reject) => {
        const child = spawn(process.execPath, ["--input-type=module", "-e", script(label)], {
          stdio: "inherit",
        });
        child.on("exit", (code) =>
          code === 0 ? resolve() : reject(new Error(`writer ${label} exited ${code}`)),
        );
      });
    await Promise.all([run("a"), run("b")]);
    const keystore = openKeystore({ path });
    const names = keystore.list().map((key) => key.name);
    expect(names).toHaveLength(1 + 2 * writes);
    expect(keystore.get("shared").primaryVersion).toBe(1 + 2 * writes);
    expect(keystore.get("shared").versions).toHaveLength(1 + 2 * writes);
  });
});
