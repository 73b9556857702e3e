import { spawn } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { openKeystore } from "../src/index.js";

const moduleUrl = new URL("../dist/index.js", import.meta.url).href;
const rotator = new URL("./fixtures/keystore-rotator.mjs", import.meta.url).pathname;

/** Starts a rotator, lets it run for `ms` after its first rotation, kills it with SIGKILL; returns the versions it saw committed. */
function runAndKill(path: string, ms: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [rotator, moduleUrl, path, "shared"], {
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let errors = "";
    let armed = false;
    child.stdout.on("data", (chunk: Buffer) => {
      out += chunk.toString();
      // Armed once the first rotation committed, so every writer does some work however loaded the machine is.
      if (!armed && /^ready\n\d+\n/.test(out)) {
        armed = true;
        setTimeout(() => child.kill("SIGKILL"), ms);
      }
    });
    child.stderr.on("data", (chunk: Buffer) => {
      errors += chunk.toString();
    });
    child.on("exit", (_code, signal) => {
      if (signal !== "SIGKILL") reject(new Error(`rotator ended without being killed: ${errors}`));
      // The last line may be cut mid-number by the kill: only whole lines count.
      const lines = out.split("\n").slice(1, -1);
      resolve(lines.map(Number));
    });
  });
}

const leftovers = (path: string) =>
  readdirSync(join(path, "..")).filter((name) => /\.(tmp|lock|claim)$/.test(name));

describe("kill loop", () => {
  it("30 rounds of two writers killed (SIGKILL) at random moments: the file always parses, no committed version is lost, the next writer gets in, no temp file with key material stays behind", async () => {
    const path = join(mkdtempSync(join(tmpdir(), "kms-envelope-kill-")), "keystore.json");
    openKeystore({ path }).create("shared");
    const committed: number[] = [];
    let leftBehind = 0;
    const rounds = 30;
    for (let round = 0; round < rounds; round++) {
      const [a, b] = await Promise.all([
        runAndKill(path, 5 + Math.random() * 60),
        runAndKill(path, 5 + Math.random() * 60),
      ]);
      committed.push(...a, ...b);
      leftBehind += leftovers(path).length;
      // A fresh reader parses whatever the kills left, and every version a writer saw committed is there.
      const versions = openKeystore({ path })
        .get("shared")
        .versions.map((version) => version.version);
      expect(versions).toEqual(Array.from({ length: versions.length }, (_, index) => index + 1));
      for (const version of [...a, ...b]) expect(versions).toContain(version);
    }
    // The next writer takes over any lock the killed ones held and sweeps their temp files.
    const keystore = openKeystore({ path, lock: { timeoutMs: 30_000 } });
    const before = keystore.get("shared").versions.length;
    const last = keystore.rotate("shared").primaryVersion;
    expect(new Set(committed).size).toBe(committed.length); // no version handed out twice
    expect(committed.length).toBeGreaterThanOrEqual(2 * rounds);
    // A writer killed after its rename but before its line reached us committed a version we never saw: fine.
    expect(before).toBeGreaterThanOrEqual(Math.max(...committed));
    expect(last).toBe(before + 1);
    expect(leftovers(path)).toEqual([]);
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(JSON.parse(readFileSync(path, "utf8")).keys.shared.versions).toHaveLength(last);
    console.log(
      `kill loop: ${rounds * 2} writers killed, ${committed.length} rotations committed, ${leftBehind} lock or temp files found after a round, all recovered`,
    );
  }, 120_000);
});
