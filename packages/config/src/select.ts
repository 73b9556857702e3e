import { isAbsolute, relative, resolve, sep } from "node:path";
import { EnvelopeError } from "@kms-envelope/core";
import type { Env, LoadedConfig, PathRule, ProfileConfig } from "./types.js";
import { suggest } from "./validate.js";

export interface SelectProfileOptions {
  /** An explicit profile (a command-line option, say): wins over everything. */
  profile?: string | undefined;
  /** The file being encrypted or decrypted, for path rules. */
  filePath?: string | undefined;
  /** Base of a relative `filePath`; `process.cwd()` by default. */
  cwd?: string | undefined;
  /** `process.env` by default: `KMS_ENVELOPE_PROFILE`. */
  env?: Env | undefined;
}

/** What picked the profile: the `profile` argument, `KMS_ENVELOPE_PROFILE`, a path rule, or the file's default. */
export type ProfileChosenBy = "argument" | "env" | "rule" | "default";

export interface SelectedProfile {
  readonly name: string;
  readonly profile: ProfileConfig;
  readonly chosenBy: ProfileChosenBy;
  /** The rule that matched, with its index in `rules`, when `chosenBy` is "rule". */
  readonly rule?: { readonly index: number; readonly pattern: string; readonly kind: PathRule["kind"] };
}

/**
 * Picks a profile: `profile`, else `KMS_ENVELOPE_PROFILE`, else the first
 * path rule matching `filePath` (relative to the config file's directory,
 * forward slashes; a file outside that directory matches no rule), else the
 * file's `default` (or its only profile). `INVALID_ARGUMENT` when none applies
 * or a name is unknown (with the nearest valid name).
 */
export function selectProfile(config: LoadedConfig, options: SelectProfileOptions = {}): SelectedProfile {
  if (config === null || typeof config !== "object" || typeof config.profiles !== "object") {
    throw new EnvelopeError("INVALID_ARGUMENT", "selectProfile needs a loaded config");
  }
  const env = options.env ?? process.env;
  const pick = (name: string, chosenBy: ProfileChosenBy, rule?: SelectedProfile["rule"]): SelectedProfile => {
    const profile = Object.hasOwn(config.profiles, name) ? config.profiles[name] : undefined;
    if (profile === undefined) {
      const from = chosenBy === "env" ? "KMS_ENVELOPE_PROFILE" : "";
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${from ? `${from}: ` : ""}${config.file} has no profile named "${name}"${suggest(name, Object.keys(config.profiles))}`,
      );
    }
    return Object.freeze(
      rule === undefined ? { name, profile, chosenBy } : { name, profile, chosenBy, rule },
    );
  };
  if (options.profile !== undefined) return pick(options.profile, "argument");
  const fromEnv = env.KMS_ENVELOPE_PROFILE;
  if (fromEnv !== undefined && fromEnv !== "") return pick(fromEnv, "env");
  if (options.filePath !== undefined) {
    const relativePath = ruleRelativePath(config, resolve(options.cwd ?? process.cwd(), options.filePath));
    if (relativePath !== undefined) {
      const index = config.rules.findIndex((rule) => rule.regex.test(relativePath));
      const rule = config.rules[index];
      if (rule !== undefined)
        return pick(rule.profile, "rule", { index, pattern: rule.pattern, kind: rule.kind });
    }
  }
  if (config.defaultProfile !== undefined) return pick(config.defaultProfile, "default");
  throw new EnvelopeError(
    "INVALID_ARGUMENT",
    `${config.file}: no profile chosen (name one, set KMS_ENVELOPE_PROFILE, add a matching path rule or set "default"); profiles: ${Object.keys(config.profiles).join(", ")}`,
  );
}

function ruleRelativePath(config: LoadedConfig, file: string): string | undefined {
  const path = relative(config.dir, file);
  if (path === "" || path === ".." || path.startsWith(`..${sep}`) || isAbsolute(path)) return undefined;
  return sep === "/" ? path : path.split(sep).join("/");
}
