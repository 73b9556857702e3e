#!/usr/bin/env node
// Packs every published package (`pnpm pack`, as a release would) and checks the tarball:
// publint (strict), the LICENSE and README inside, no source maps, and the package.json
// fields a registry page needs. Run after `turbo run build`; scripts/run.sh test does.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { publint } from "publint";
import { formatMessage } from "publint/utils";

const root = fileURLToPath(new URL("..", import.meta.url));
const REPOSITORY = "git+https://github.com/kms-envelope/kms-envelope.git";
const problems = [];
const out = mkdtempSync(join(tmpdir(), "kms-envelope-pack-"));

try {
  for (const dir of readdirSync(join(root, "packages")).sort()) {
    const packageDir = join(root, "packages", dir);
    const manifest = JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8"));
    if (manifest.private === true) continue;
    const fail = (message) => problems.push(`${manifest.name}: ${message}`);
    if (manifest.license !== "Apache-2.0") fail(`license is ${manifest.license}, not Apache-2.0`);
    if (manifest.repository?.url !== REPOSITORY || manifest.repository?.directory !== `packages/${dir}`) {
      fail("repository must name the monorepo and this package's directory");
    }
    if (typeof manifest.homepage !== "string" || typeof manifest.bugs?.url !== "string")
      fail("homepage and bugs are required");
    if (manifest.publishConfig?.access !== "public" || manifest.publishConfig?.provenance !== true) {
      fail("publishConfig must be { access: public, provenance: true }");
    }
    const before = new Set(readdirSync(out));
    execFileSync("pnpm", ["pack", "--pack-destination", out], {
      cwd: packageDir,
      stdio: "pipe",
    });
    const tarball = readdirSync(out).find((file) => !before.has(file));
    if (tarball === undefined) throw new Error(`${manifest.name}: pnpm pack wrote no tarball`);
    const files = execFileSync("tar", ["-tzf", join(out, tarball)], { encoding: "utf8" })
      .trim()
      .split("\n");
    for (const required of ["package/LICENSE", "package/README.md", "package/package.json"]) {
      if (!files.includes(required)) fail(`the tarball has no ${required.slice("package/".length)}`);
    }
    if (!files.some((file) => file.startsWith("package/dist/")))
      fail("the tarball has no dist/ (build first)");
    for (const file of files.filter((name) => name.endsWith(".map")))
      fail(`the tarball ships a source map: ${file}`);
    const packed = readFileSync(join(out, tarball));
    const tarballBytes = packed.buffer.slice(packed.byteOffset, packed.byteOffset + packed.byteLength);
    const result = await publint({ pack: { tarball: tarballBytes }, level: "suggestion", strict: true });
    for (const message of result.messages)
      fail(`publint ${message.type}: ${formatMessage(message, result.pkg)}`);
    const readme = files.includes("package/README.md")
      ? execFileSync("tar", ["-xzOf", join(out, tarball), "package/README.md"], { encoding: "utf8" })
      : "";
    for (const [, link] of readme.matchAll(/\]\(([^)]+)\)/g)) {
      if (!/^(https:\/\/|#)/.test(link))
        fail(`README links ${link}: use an absolute URL (relative links break on the registry)`);
    }
    const found = problems.filter((problem) => problem.startsWith(`${manifest.name}:`)).length;
    console.log(`${manifest.name}: ${files.length} files, ${found === 0 ? "clean" : `${found} problem(s)`}`);
  }
} finally {
  rmSync(out, { recursive: true, force: true });
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
