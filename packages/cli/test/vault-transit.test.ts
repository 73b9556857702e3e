import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inspect } from "@kms-envelope/core";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "@kms-envelope/emulators/vault";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { assertBuilt, cliAsync, ONE_ERROR_LINE, type Workspace, workspace } from "./helpers.js";

// The built binary, as its own process, against the Vault transit emulator, with the token
// read from a file named by a config profile (as the kms-envelope-emulators config does).
let vault: VaultTransitEmulator;
let ws: Workspace;
const acli = (args: string[], options: Parameters<typeof cliAsync>[2] = {}) => cliAsync(ws, args, options);

beforeAll(async () => {
  assertBuilt();
  vault = await startVaultTransitEmulator();
  vault.createKey("cli");
});
afterAll(async () => {
  await vault?.close();
});
beforeEach(async () => {
  ws = await workspace("kms-envelope-vault-");
  vault.calls.reset();
  writeFileSync(join(ws.dir, "vault-token"), `${vault.rootToken}\n`, { mode: 0o600 });
  const settings = `{ tokenFile: ${JSON.stringify(join(ws.dir, "vault-token"))}, tls: false }`;
  writeFileSync(
    join(ws.dir, "kms-envelope.yaml"),
    `default: vault
profiles:
  vault:
    encrypt: ["vault-transit://${vault.hostPort}/transit/keys/cli"]
    providers:
      vault-transit: ${settings}
  tink:
    encrypt: ["hcvault://${vault.hostPort}/transit/keys/cli"]
    providers:
      hcvault: ${settings}
  wrong-token:
    encrypt: ["vault-transit://${vault.hostPort}/transit/keys/cli"]
    providers:
      vault-transit: { tokenFile: "bad-token", tls: false }
`,
  );
});

describe("vault-transit:// keys through the CLI against the Vault emulator", () => {
  it("encrypt and decrypt with a config profile; the hcvault:// spelling reads the same envelope", async () => {
    writeFileSync(join(ws.dir, "in.txt"), "kept in transit");
    const encrypted = await acli(["encrypt", "--profile", "vault", "-i", "in.txt", "-o", "a.kmse"]);
    expect(encrypted.status, encrypted.stderr).toBe(0);
    expect(
      inspect(readFileSync(join(ws.dir, "a.kmse"))).wrappedKeys.map((k) => [k.provider, k.keyId]),
    ).toEqual([["vault-transit", `${vault.hostPort}/transit/keys/cli`]]);
    expect(vault.calls.count("Encrypt")).toBe(1);

    const decrypted = await acli(["decrypt", "--profile", "vault", "-i", "a.kmse"]);
    expect(decrypted.status, decrypted.stderr).toBe(0);
    expect(decrypted.stdout.toString()).toBe("kept in transit");
    expect(vault.calls.count("Decrypt")).toBe(1);

    const viaTink = await acli(["decrypt", "--profile", "tink", "-i", "a.kmse"]);
    expect(viaTink.status, viaTink.stderr).toBe(0);
    expect(viaTink.stdout.toString()).toBe("kept in transit");
    expect(vault.calls.count("Decrypt")).toBe(2);
  });

  it("a token Vault refuses is one KEY_ACCESS_DENIED line (status 3), and no output file", async () => {
    writeFileSync(join(ws.dir, "bad-token"), "hvs.not-a-token\n", { mode: 0o600 });
    const refused = await acli(["encrypt", "--profile", "wrong-token", "-o", "b.kmse"], { input: "x" });
    expect(refused.status).toBe(3);
    expect(refused.stderr).toMatch(ONE_ERROR_LINE("KEY_ACCESS_DENIED"));
    expect(refused.stderr).not.toContain("hvs.not-a-token");
    expect(() => readFileSync(join(ws.dir, "b.kmse"))).toThrow(/ENOENT/);
  });

  it("config check accepts the profiles: the provider is installed", async () => {
    const checked = await acli(["config", "check"]);
    expect(checked.status, checked.stderr).toBe(0);
    expect(checked.stdout.toString()).toContain("profiles: vault, tink, wrong-token");
  });
});
