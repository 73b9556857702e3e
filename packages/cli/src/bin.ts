#!/usr/bin/env node
import module from "node:module";
import { homedir } from "node:os";
import { isAbsolute, join } from "node:path";

/**
 * Where Node keeps the compiled code of the CLI's modules between runs:
 * `$XDG_CACHE_HOME/kms-envelope/compile-cache`, else under `~/.cache`
 * (`%LOCALAPPDATA%` on Windows). V8 bytecode of the installed JavaScript
 * only: no keys, data, paths of files worked on, or arguments
 * (docs/cli.md). In the user's own cache directory, not the shared temp
 * directory Node would pick, so no other user can plant code in it.
 */
function compileCacheDirectory(env: NodeJS.ProcessEnv): string {
  const xdg = env.XDG_CACHE_HOME;
  const base =
    xdg !== undefined && isAbsolute(xdg)
      ? xdg
      : process.platform === "win32" && env.LOCALAPPDATA
        ? env.LOCALAPPDATA
        : join(homedir(), ".cache");
  return join(base, "kms-envelope", "compile-cache");
}

// Before anything else is imported: a 1 KiB decrypt spends most of its time compiling modules.
// Node < 22.1 has no compile cache; NODE_DISABLE_COMPILE_CACHE=1 turns it off; a cache that
// cannot be written (read-only home) is skipped by Node without an error.
try {
  module.enableCompileCache?.(compileCacheDirectory(process.env));
} catch {
  // Start without the cache.
}
await import("./main.js");
