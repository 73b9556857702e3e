import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

/**
 * Packaging checks every provider makes: "a library that depends on one
 * provider gets no other cloud's SDK" and "an envelope decrypts in a fresh
 * process with only core + this provider installed".
 */
interface PackageJson {
  name: string;
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
}

function readManifest(packageDir: string): PackageJson {
  return JSON.parse(readFileSync(join(packageDir, "package.json"), "utf8")) as PackageJson;
}

/** Where `name` resolves from `fromDir` by Node's rule (the nearest node_modules/<name> upwards), real path. */
export function resolvePackageDir(fromDir: string, name: string): string | undefined {
  for (let dir = fromDir; ; dir = dirname(dir)) {
    const candidate = join(dir, "node_modules", name, "package.json");
    if (existsSync(candidate)) return realpathSync(dirname(candidate));
    if (dirname(dir) === dir) return undefined;
  }
}

/**
 * Names of every package a production install of `packageDir` brings:
 * dependencies, optional dependencies and required peers, transitively, as
 * they resolve in this install. A missing required dependency is an error,
 * so the walk cannot pass by finding nothing.
 */
export function productionClosure(packageDir: string): Set<string> {
  const seen = new Map<string, string>();
  const visit = (from: string) => {
    const manifest = readManifest(from);
    const requiredPeers = Object.keys(manifest.peerDependencies ?? {}).filter(
      (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true,
    );
    const optional = new Set(Object.keys(manifest.optionalDependencies ?? {}));
    for (const name of [...Object.keys(manifest.dependencies ?? {}), ...optional, ...requiredPeers]) {
      const found = resolvePackageDir(from, name);
      if (found === undefined) {
        if (optional.has(name)) continue;
        throw new Error(`${name} (needed by ${manifest.name}) is not installed`);
      }
      if (seen.has(found)) continue;
      seen.set(found, name);
      visit(found);
    }
  };
  visit(realpathSync(packageDir));
  return new Set(seen.values());
}

/**
 * A fresh app directory whose node_modules hold exactly `packageDirs` (their
 * package.json and built dist, copied: a link would let Node find the
 * workspace's dev dependencies beside the source) and, linked, the
 * third-party production dependencies each of them declares (their store
 * copies see only their own dependencies). Build the packages first.
 */
export function createIsolatedInstall(packageDirs: readonly string[], prefix = "kms-envelope-app-"): string {
  const app = mkdtempSync(join(tmpdir(), prefix));
  const modules = join(app, "node_modules");
  const copied = new Set(packageDirs.map((dir) => readManifest(dir).name));
  writeFileSync(join(app, "package.json"), JSON.stringify({ private: true, type: "module" }));
  for (const dir of packageDirs) {
    const name = readManifest(dir).name;
    if (!existsSync(join(dir, "dist"))) throw new Error(`${name} is not built (no dist/)`);
    mkdirSync(join(modules, name), { recursive: true });
    cpSync(join(dir, "package.json"), join(modules, name, "package.json"));
    cpSync(join(dir, "dist"), join(modules, name, "dist"), { recursive: true });
  }
  for (const dir of packageDirs) {
    for (const name of Object.keys(readManifest(dir).dependencies ?? {})) {
      if (copied.has(name) || existsSync(join(modules, name))) continue;
      const target = resolvePackageDir(dir, name);
      if (target === undefined) throw new Error(`${name} is not installed`);
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(target, join(modules, name), "dir");
    }
  }
  return app;
}
