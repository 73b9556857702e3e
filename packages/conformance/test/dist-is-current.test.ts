import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { distIsCurrent } from "../src/install-tree.js";

// createIsolatedInstall skips its build when dist is current, so a provider's
// packaging test never rewrites a dist that parallel tests are importing.
describe("distIsCurrent (createIsolatedInstall's build skip)", () => {
  const dirs: string[] = [];
  afterEach(() => {
    for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
  });

  function fakePackage(sourceTime: number, distTime: number | undefined): string {
    const dir = mkdtempSync(join(tmpdir(), "kms-envelope-dist-"));
    dirs.push(dir);
    mkdirSync(join(dir, "src", "deep"), { recursive: true });
    for (const file of ["src/index.ts", "src/deep/more.ts", "package.json", "tsconfig.build.json"]) {
      writeFileSync(join(dir, file), "x");
      utimesSync(join(dir, file), sourceTime, sourceTime);
    }
    if (distTime !== undefined) {
      mkdirSync(join(dir, "dist"));
      writeFileSync(join(dir, "dist", "index.js"), "x");
      utimesSync(join(dir, "dist", "index.js"), distTime, distTime);
    }
    return dir;
  }

  it("is true when every dist file is newer than every source", () => {
    expect(distIsCurrent(fakePackage(1_000, 2_000))).toBe(true);
  });

  it("is false without a dist", () => {
    expect(distIsCurrent(fakePackage(1_000, undefined))).toBe(false);
  });

  it("is false when a nested source changed after the build", () => {
    const dir = fakePackage(1_000, 2_000);
    utimesSync(join(dir, "src", "deep", "more.ts"), 3_000, 3_000);
    expect(distIsCurrent(dir)).toBe(false);
  });

  it("is false when the build settings changed after the build", () => {
    const dir = fakePackage(1_000, 2_000);
    utimesSync(join(dir, "tsconfig.build.json"), 3_000, 3_000);
    expect(distIsCurrent(dir)).toBe(false);
  });
});
