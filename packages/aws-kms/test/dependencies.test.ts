import { readdir, readFile, realpath, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const PACKAGE = dirname(dirname(fileURLToPath(import.meta.url)));

/** Finds `name` the way Node does from `dir`: the nearest node_modules/<name> up the tree. */
async function locate(name: string, from: string): Promise<string | undefined> {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name);
    if (await stat(join(candidate, "package.json")).catch(() => undefined)) return realpath(candidate);
    if (dirname(dir) === dir) return undefined;
  }
}

/** Every package installed for production use of `root`: dependencies and optional dependencies, transitively. */
async function productionClosure(root: string): Promise<Set<string>> {
  const seen = new Map<string, string>();
  const queue = [await realpath(root)];
  while (queue.length > 0) {
    const dir = queue.pop()!;
    const manifest = JSON.parse(await readFile(join(dir, "package.json"), "utf8"));
    const names = Object.keys({ ...manifest.dependencies, ...manifest.optionalDependencies });
    for (const name of names) {
      const found = await locate(name, dir);
      if (found === undefined) {
        if (name in (manifest.optionalDependencies ?? {})) continue;
        throw new Error(`${name} (needed by ${manifest.name}) is not installed`);
      }
      if (!seen.has(found)) {
        seen.set(found, name);
        queue.push(found);
      }
    }
  }
  return new Set(seen.values());
}

it("the production dependency closure holds no other cloud SDK or provider package", async () => {
  const closure = await productionClosure(PACKAGE);
  expect(closure.size).toBeGreaterThan(20); // the walk really followed the SDK's own dependencies
  expect(closure.has("@aws-sdk/client-kms")).toBe(true);
  expect(closure.has("@kms-envelope/core")).toBe(true);
  const foreign = [...closure].filter(
    (name) =>
      /^@(google-cloud|googleapis|azure|azure-rest|grpc)\//.test(name) ||
      /^(google-gax|google-auth-library|gcp-metadata)$/.test(name) ||
      (name.startsWith("@kms-envelope/") && name !== "@kms-envelope/core"),
  );
  expect(foreign).toEqual([]);
});

it("the source imports only core, the KMS client and node: built-ins", async () => {
  const sources = (await readdir(join(PACKAGE, "src"))).filter((file) => file.endsWith(".ts"));
  for (const file of sources) {
    const text = await readFile(join(PACKAGE, "src", file), "utf8");
    for (const [, specifier] of text.matchAll(/from "([^"]+)"/g)) {
      expect(specifier, `${file} imports ${specifier}`).toMatch(
        /^(\.\/.*\.js|node:.*|@kms-envelope\/core|@aws-sdk\/client-kms)$/,
      );
    }
  }
});
