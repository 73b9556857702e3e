import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { assertBuilt, BIN, cliSync, ONE_ERROR_LINE, sh, type Workspace, workspace } from "./helpers.js";

let ws: Workspace;
const cli = (args: string[], options: Parameters<typeof cliSync>[2] = {}) => cliSync(ws, args, options);

/** Runs the binary under a pseudo-terminal (util-linux `script`): its stdin, stdout and stderr are the pty. */
function underTerminal(args: string, env: NodeJS.ProcessEnv = {}) {
  const result = spawnSync("script", ["-qec", `${process.execPath} ${BIN} ${args}`, "/dev/null"], {
    cwd: ws.dir,
    env: { ...ws.env, ...env },
    input: "",
    encoding: "utf8",
  });
  return { status: result.status, transcript: result.stdout + result.stderr };
}

const hasScript = spawnSync("script", ["--version"]).status === 0;

beforeAll(async () => {
  assertBuilt();
  ws = await workspace("kms-envelope-pipes-");
  expect(cli(["keys", "create", "app"]).status).toBe(0);
  writeFileSync(join(ws.dir, "big.bin"), randomBytes(12 * 1024 * 1024));
  expect(cli(["encrypt", "-k", "local://app", "-i", "big.bin", "-o", "big.kmse"]).status).toBe(0);
  writeFileSync(join(ws.dir, "small.txt"), "small");
});

describe("closed pipes and full disks", () => {
  it("decrypt | head -c 10: quiet, status 141 (as a SIGPIPE-ended tool), no success line", () => {
    const result = sh(ws, '$CLI decrypt -i big.kmse | head -c 10 > head.out; echo "$PIPESTATUS"');
    expect(result.stdout.toString().trim()).toBe("141");
    expect(result.stderr).toBe("");
  });

  it("inspect and keys list into an already closed pipe end quietly too", () => {
    for (const args of ["inspect -i big.kmse", "keys list", "--help"]) {
      // The reader (true) has exited before the command starts writing.
      const result = sh(ws, `{ sleep 0.3; $CLI ${args}; echo "$?" > status; } | true; cat status`);
      expect(result.stdout.toString().trim(), args).toBe("141");
      expect(result.stderr).toBe("");
    }
  });

  it("> /dev/full: one IO_ERROR line naming ENOSPC, status 9, no success line", () => {
    const result = sh(ws, "$CLI decrypt -i big.kmse > /dev/full");
    expect(result.status).toBe(9);
    expect(result.stderr).toMatch(ONE_ERROR_LINE("IO_ERROR"));
    expect(result.stderr).toContain("ENOSPC");
  });

  it("-o /dev/full: the same, and encrypt too", () => {
    for (const args of [
      "decrypt -i big.kmse -o /dev/full",
      "encrypt -k local://app -i big.bin -o /dev/full",
    ]) {
      const result = sh(ws, `$CLI ${args}`);
      expect(result.status, args).toBe(9);
      expect(result.stderr).toMatch(ONE_ERROR_LINE("IO_ERROR"));
      expect(result.stderr).toContain("cannot write /dev/full: ENOSPC");
    }
  });
});

describe.runIf(hasScript)("terminals (under a pseudo-terminal)", () => {
  it("encrypt refuses to write a binary envelope to a terminal and suggests --armor or -o", () => {
    const result = underTerminal("encrypt -k local://app -i small.txt");
    expect(result.status).toBe(2);
    expect(result.transcript).toContain(
      "error INVALID_ARGUMENT: refusing to write a binary envelope to the terminal",
    );
    expect(result.transcript).toContain("--armor");
    expect(result.transcript).not.toContain("KMSE");
    const armored = underTerminal("encrypt -k local://app -i small.txt --armor");
    expect(armored.status).toBe(0);
    expect(armored.transcript).toContain("kmse1:");
  });

  it("a terminal as standard input without -i is an error, not a silent wait", () => {
    const result = underTerminal("encrypt -k local://app -o never.kmse");
    expect(result.status).toBe(2);
    expect(result.transcript).toContain("standard input is a terminal");
    expect(existsSync(join(ws.dir, "never.kmse"))).toBe(false);
  });

  it("progress (bytes, rate, ETA) on a terminal for inputs over 8 MiB; none with --quiet or for small inputs", () => {
    const shown = underTerminal("encrypt -k local://app -i big.bin -o p.kmse");
    expect(shown.status).toBe(0);
    expect(shown.transcript).toMatch(/encrypt [\d.]+ MiB \/ 12\.0 MiB \(\d+%\) +[\d.]+ [KMG]?i?B\/s +ETA/);
    const decrypted = underTerminal("decrypt -i p.kmse -o p.out");
    expect(decrypted.transcript).toMatch(/decrypt [\d.]+ MiB \/ 12\.0 MiB/);
    const quiet = underTerminal("encrypt -k local://app -i big.bin -o q.kmse --quiet");
    expect(quiet.status).toBe(0);
    expect(quiet.transcript).not.toContain("MiB");
    const small = underTerminal("encrypt -k local://app -i small.txt -o s.kmse");
    expect(small.transcript).not.toContain("ETA");
  });

  it("no progress when standard error is not a terminal", () => {
    const result = cli(["encrypt", "-k", "local://app", "-i", "big.bin", "-o", "n.kmse"]);
    expect(result.stderr).toMatch(/^encrypted 12582912 bytes → \d+-byte envelope for local:app\n$/);
  });
});
