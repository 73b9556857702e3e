import { execFile, execFileSync } from "node:child_process";
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  statSync,
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

/** Newest (or, with `oldest`, oldest) modification time of the files below `path`; -1 when there are none. */
function mtimeBelow(path: string, oldest = false): number {
  if (!existsSync(path)) return -1;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  let found = -1;
  for (const entry of readdirSync(path)) {
    const time = mtimeBelow(join(path, entry), oldest);
    if (time < 0) continue;
    if (found < 0 || (oldest ? time < found : time > found)) found = time;
  }
  return found;
}

/** Whether `dir/dist` was built after every source and build setting last changed. */
export function distIsCurrent(dir: string): boolean {
  const built = mtimeBelow(join(dir, "dist"), true);
  if (built < 0) return false;
  const sources = Math.max(
    mtimeBelow(join(dir, "src")),
    mtimeBelow(join(dir, "tsconfig.build.json")),
    mtimeBelow(join(dir, "package.json")),
  );
  return sources >= 0 && built >= sources;
}

/**
 * Builds a package (`tsc -p tsconfig.build.json`) when its dist is older than
 * its sources, so a child process runs what this checkout ships. Under turbo
 * the build task already ran and nothing is rewritten: rewriting dist in place
 * would race other packages' tests that import it at the same moment.
 */
export function buildIfStale(dir: string): void {
  if (distIsCurrent(dir)) return;
  const tsc = join(dir, "node_modules", "typescript", "bin", "tsc");
  execFileSync(process.execPath, [tsc, "-p", "tsconfig.build.json"], { cwd: dir });
}

export interface IsolatedInstallOptions {
  /** Prefix of the temporary directory's name. */
  readonly prefix?: string | undefined;
  /**
   * Package directories to build first (`tsc -p tsconfig.build.json`), so the
   * child runs what this checkout ships; `true` is the last of `packageDirs`
   * (the package under test). Build only your own package: others' dist may
   * be read by tests running in parallel.
   */
  readonly build?: boolean | readonly string[] | undefined;
  /**
   * Packages copied a second time inside another's node_modules, as npm nests
   * a second copy when versions drift: `{ "@kms-envelope/aws-kms": [coreDir] }`.
   */
  readonly nested?: Readonly<Record<string, readonly string[]>> | undefined;
  /** Files to write into the app directory (the child's scripts). */
  readonly files?: Readonly<Record<string, string>> | undefined;
}

/**
 * Loaded by `runIsolated` before the child's script: refuses (and records)
 * any connection that is not loopback, and records every module specifier
 * resolved, on `globalThis.isolationProbe`, for the script to report.
 */
const PROBE = `
import { registerHooks } from "node:module";
import net from "node:net";
const probe = { resolved: [], nonLoopback: [] };
globalThis.isolationProbe = probe;
registerHooks({
  resolve(specifier, context, nextResolve) {
    probe.resolved.push(specifier);
    return nextResolve(specifier, context);
  },
});
const connect = net.Socket.prototype.connect;
net.Socket.prototype.connect = function (...args) {
  const [first] = Array.isArray(args[0]) ? args[0] : args;
  const host = typeof first === "object" && first !== null && typeof first.path !== "string" ? (first.host ?? "localhost") : typeof args[1] === "string" ? args[1] : "localhost";
  if (!["127.0.0.1", "::1", "localhost"].includes(host)) {
    probe.nonLoopback.push(String(host));
    throw new Error("isolation probe: the child tried to connect to " + host);
  }
  return connect.apply(this, args);
};
`;

function copyPackage(dir: string, modules: string): string {
  const name = readManifest(dir).name;
  if (!existsSync(join(dir, "dist"))) throw new Error(`${name} is not built (no dist/)`);
  mkdirSync(join(modules, name), { recursive: true });
  cpSync(join(dir, "package.json"), join(modules, name, "package.json"));
  cpSync(join(dir, "dist"), join(modules, name, "dist"), { recursive: true });
  return name;
}

/** Third-party packages a production install needs: dependencies and required peers. */
function runtimeNeeds(dir: string): string[] {
  const manifest = readManifest(dir);
  const peers = Object.keys(manifest.peerDependencies ?? {}).filter(
    (peer) => manifest.peerDependenciesMeta?.[peer]?.optional !== true,
  );
  return [...Object.keys(manifest.dependencies ?? {}), ...peers];
}

/**
 * A fresh app directory whose node_modules hold exactly `packageDirs` (their
 * package.json and built dist, copied: a link would let Node find the
 * workspace's dev dependencies beside the source) and, linked, the
 * third-party production dependencies and required peers each of them
 * declares (their store copies see only their own dependencies; optional
 * dependencies are never linked, as with `npm install --omit=optional`).
 * Also writes `probe.mjs` (see `runIsolated`) and `options.files`.
 */
export function createIsolatedInstall(
  packageDirs: readonly string[],
  options: string | IsolatedInstallOptions = {},
): string {
  const settings = typeof options === "string" ? { prefix: options } : options;
  const toBuild =
    settings.build === true ? packageDirs.slice(-1) : settings.build === false ? [] : settings.build;
  for (const dir of toBuild ?? []) buildIfStale(dir);
  const app = mkdtempSync(join(tmpdir(), settings.prefix ?? "kms-envelope-app-"));
  const modules = join(app, "node_modules");
  const copied = new Set(packageDirs.map((dir) => readManifest(dir).name));
  writeFileSync(join(app, "package.json"), JSON.stringify({ private: true, type: "module" }));
  for (const dir of packageDirs) copyPackage(dir, modules);
  for (const [owner, dirs] of Object.entries(settings.nested ?? {})) {
    if (!copied.has(owner)) throw new Error(`nested: ${owner} is not one of the installed packages`);
    for (const dir of dirs) copyPackage(dir, join(modules, owner, "node_modules"));
  }
  for (const dir of packageDirs) {
    for (const name of runtimeNeeds(dir)) {
      if (copied.has(name) || existsSync(join(modules, name))) continue;
      const target = resolvePackageDir(dir, name);
      if (target === undefined) throw new Error(`${name} is not installed`);
      mkdirSync(dirname(join(modules, name)), { recursive: true });
      symlinkSync(target, join(modules, name), "dir");
    }
  }
  writeFileSync(join(app, "probe.mjs"), PROBE);
  for (const [file, text] of Object.entries(settings.files ?? {})) writeFileSync(join(app, file), text);
  return app;
}

export interface RunIsolatedOptions {
  readonly args?: readonly string[] | undefined;
  /** Written to the child's standard input. */
  readonly input?: string | undefined;
  /** The child's whole environment (default: this process's). */
  readonly env?: NodeJS.ProcessEnv | undefined;
  readonly timeoutMs?: number | undefined;
}

/**
 * Runs `script` in `app` with Node, after `probe.mjs` (loopback-only
 * connections; resolved specifiers and refused hosts on
 * `globalThis.isolationProbe`). Resolves with its standard output; a non-zero
 * exit rejects with its standard error.
 */
export function runIsolated(app: string, script: string, options: RunIsolatedOptions = {}): Promise<string> {
  return new Promise((done, fail) => {
    const child = execFile(
      process.execPath,
      ["--import", "./probe.mjs", script, ...(options.args ?? [])],
      { cwd: app, env: options.env ?? process.env, timeout: options.timeoutMs ?? 20_000 },
      (error, stdout, stderr) => (error ? fail(new Error(`${error.message}\n${stderr}`)) : done(stdout)),
    );
    child.stdin?.end(options.input ?? "");
  });
}
