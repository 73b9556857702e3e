import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createKeyUriRegistry } from "@kms-envelope/core";
import { afterAll, expect, it } from "vitest";
import { localKeyUriProvider, openKeystore } from "../src/index.js";

const dir = mkdtempSync(join(tmpdir(), "local-uri-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const registry = createKeyUriRegistry([localKeyUriProvider]);

it("local://<name> opens a key from the keystore path a config file names, or from an open Keystore", async () => {
  const path = join(dir, "keystore.json");
  const keystore = openKeystore({ path });
  keystore.create("orders");
  for (const options of [{ keystore: path }, { keystore }]) {
    const kek = await registry.open("local://orders", { local: options });
    const wrapped = await kek.wrap(new Uint8Array(32).fill(3), {});
    expect([...(await kek.unwrap({ provider: "local", ...wrapped }, {}))]).toEqual(new Array(32).fill(3));
  }
});

it("an unknown option or a keystore of the wrong kind is INVALID_ARGUMENT", async () => {
  const refusals: [Record<string, unknown>, string][] = [
    [{ keystroe: "x" }, 'unknown local provider option "keystroe"'],
    [{ keystore: 7 }, 'local provider option "keystore" must be a string or an object'],
    [{ keystore: true }, 'local provider option "keystore" must be a string or an object'],
    [{ keystore: {} }, 'local provider option "keystore" must be a path or a Keystore'],
  ];
  for (const [options, message] of refusals) {
    await expect(registry.open("local://orders", { local: options })).rejects.toMatchObject({
      code: "INVALID_ARGUMENT",
      message,
    });
  }
});
