import { existsSync, statSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";
import { parseConfig } from "./parse.js";
import type { ConfigFoundBy, Env, LoadedConfig } from "./types.js";

/** File names searched upward from the working directory, in this order. */
export const CONFIG_FILE_NAMES = ["kms-envelope.yaml", "kms-envelope.yml", "kms-envelope.json"] as const;
/** Names tried in the user config directory. */
const USER_FILE_NAMES = ["config.yaml", "config.yml", "config.json"] as const;
/** A config file is a few kilobytes; anything this large is a mistake. */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface LoadConfigOptions {
  /** An explicit file (a command-line option, say): it must exist. */
  path?: string | undefined;
  /** Where the upward search starts; `process.cwd()` by default. */
  cwd?: string | undefined;
  /** `process.env` by default: `KMS_ENVELOPE_CONFIG`, `XDG_CONFIG_HOME`, `APPDATA`, `HOME`. */
  env?: Env | undefined;
}

export interface FoundConfigFile {
  readonly file: string;
  readonly foundBy: Exclude<ConfigFoundBy, "text">;
}

/**
 * Which config file applies, without reading it: `path`, else
 * `KMS_ENVELOPE_CONFIG`, else `kms-envelope.yaml` / `.yml` / `.json` in the
 * working directory or the nearest parent that has one (as `.sops.yaml` is
 * found), else `config.yaml` / `.yml` / `.json` in the user config directory
 * (`$XDG_CONFIG_HOME/kms-envelope`, `~/.config/kms-envelope`, or
 * `%APPDATA%\kms-envelope` on Windows). Undefined when there is none.
 */
export function findConfigFile(options: LoadConfigOptions = {}): FoundConfigFile | undefined {
  if (options === null || typeof options !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "findConfigFile options must be an object");
  }
  const env = options.env ?? process.env;
  const cwd = resolve(options.cwd ?? process.cwd());
  const explicit = options.path ?? undefined;
  if (explicit !== undefined)
    return { file: mustExist(resolve(cwd, explicit), "config path"), foundBy: "argument" };
  const fromEnv = env.KMS_ENVELOPE_CONFIG;
  if (fromEnv !== undefined && fromEnv !== "") {
    return { file: mustExist(resolve(cwd, fromEnv), "KMS_ENVELOPE_CONFIG"), foundBy: "env" };
  }
  for (let dir = cwd; ; dir = dirname(dir)) {
    const found = single(dir, CONFIG_FILE_NAMES);
    if (found !== undefined) return { file: found, foundBy: "search" };
    if (dirname(dir) === dir) break;
  }
  const userDir = userConfigDir(env);
  const found = userDir === undefined ? undefined : single(userDir, USER_FILE_NAMES);
  return found === undefined ? undefined : { file: found, foundBy: "user" };
}

/**
 * Finds (see `findConfigFile`), reads and validates the config file.
 * Undefined when no file applies and none was named; every problem in a file
 * is `INVALID_ARGUMENT` naming its path, line and column.
 */
export async function loadConfig(options: LoadConfigOptions = {}): Promise<LoadedConfig | undefined> {
  const found = findConfigFile(options);
  if (found === undefined) return undefined;
  let text: string;
  try {
    if (statSync(found.file).size > MAX_CONFIG_BYTES) {
      throw new EnvelopeError("INVALID_ARGUMENT", `${found.file}: larger than ${MAX_CONFIG_BYTES} bytes`);
    }
    text = await readFile(found.file, "utf8");
  } catch (error) {
    if (error instanceof EnvelopeError) throw error;
    throw new EnvelopeError("INVALID_ARGUMENT", `${found.file}: cannot read the config file`, {
      cause: error,
    });
  }
  return parseConfig(text, { file: found.file, foundBy: found.foundBy });
}

/** The user config directory for kms-envelope, or undefined when the environment names none. */
export function userConfigDir(env: Env = process.env): string | undefined {
  if (env.XDG_CONFIG_HOME) return join(env.XDG_CONFIG_HOME, "kms-envelope");
  if (process.platform === "win32" && env.APPDATA) return join(env.APPDATA, "kms-envelope");
  const home = env.HOME ?? (env === process.env ? homedir() : undefined);
  return home ? join(home, ".config", "kms-envelope") : undefined;
}

function mustExist(file: string, from: string): string {
  if (!existsSync(file)) throw new EnvelopeError("INVALID_ARGUMENT", `${from}: no config file at ${file}`);
  return file;
}

/** The one config file among `names` in `dir`; two of them is ambiguous, so an error. */
function single(dir: string, names: readonly string[]): string | undefined {
  const present = names.map((name) => join(dir, name)).filter((file) => existsSync(file));
  if (present.length > 1) {
    throw new EnvelopeError("INVALID_ARGUMENT", `more than one config file in ${dir}: ${present.join(", ")}`);
  }
  return present[0];
}
