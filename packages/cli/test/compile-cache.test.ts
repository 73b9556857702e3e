import { randomBytes } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, cliSync, type Workspace, workspace } from "./helpers.js";

let ws: Workspace;
const cli = (args: string[], env: NodeJS.ProcessEnv = {}) => cliSync(ws, args, { env });

beforeAll(assertBuilt);
beforeEach(async () => {
  ws = await workspace();
});

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((name) => join(dir, name))
    .filter((path) => statSync(path).isFile());
}

describe("Node's compile cache", () => {
  it("is kept under ~/.cache/kms-envelope and holds none of the keys, data, file names or arguments of a run", () => {
    const marker = randomBytes(12).toString("hex");
    const plaintext = `plaintext-${marker}`;
    const inputName = `input-${marker}.txt`;
    const contextValue = `context-${marker}`;
    expect(cli(["keys", "create", "app"]).status).toBe(0);
    writeFileSync(join(ws.dir, inputName), plaintext);
    const encrypted = cli([
      "encrypt",
      "-k",
      "local://app",
      "-c",
      `tag=${contextValue}`,
      "-i",
      inputName,
      "-o",
      "out.kmse",
    ]);
    expect(encrypted.status, encrypted.stderr).toBe(0);
    const decrypted = cli(["decrypt", "-i", "out.kmse"]);
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(decrypted.stdout.toString()).toBe(plaintext);

    const cache = join(ws.dir, ".cache", "kms-envelope", "compile-cache");
    const files = filesUnder(cache);
    expect(files.length).toBeGreaterThan(0);
    const keystore = JSON.parse(readFileSync(join(ws.dir, "keystore.json"), "utf8"));
    const material: string = keystore.keys.app.versions[0].material;
    const secrets = [
      plaintext,
      inputName,
      contextValue,
      material,
      Buffer.from(material, "base64").toString("latin1"),
    ];
    for (const file of files) {
      const bytes = readFileSync(file);
      for (const secret of secrets) {
        expect(bytes.includes(Buffer.from(secret, "latin1")), `${secret} in ${file}`).toBe(false);
        expect(bytes.includes(Buffer.from(secret, "utf16le")), `${secret} in ${file}`).toBe(false);
      }
    }
  });

  it("follows XDG_CACHE_HOME, and NODE_DISABLE_COMPILE_CACHE=1 writes none", () => {
    const xdg = join(ws.dir, "xdg-cache");
    expect(cli(["--version"], { XDG_CACHE_HOME: xdg }).status).toBe(0);
    expect(filesUnder(join(xdg, "kms-envelope", "compile-cache")).length).toBeGreaterThan(0);
    expect(existsSync(join(ws.dir, ".cache"))).toBe(false);

    expect(cli(["--version"], { NODE_DISABLE_COMPILE_CACHE: "1" }).status).toBe(0);
    expect(existsSync(join(ws.dir, ".cache"))).toBe(false);
  });
});
