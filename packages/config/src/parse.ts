import { isAbsolute, resolve } from "node:path";
import { EnvelopeError, parseKeyUri } from "@kms-envelope/core";
import { globToRegExp } from "./glob.js";
import { CONFIG_SPEC, PATH_SETTINGS } from "./spec.js";
import type {
  CacheSettings,
  ConfigFoundBy,
  DiscoveryFilters,
  LimitSettings,
  LoadedConfig,
  PathRule,
  ProfileConfig,
  ProviderSettings,
  RequiredContextKey,
} from "./types.js";
import { configError, type LocationMap, suggest, validateDocument } from "./validate.js";
import { yamlParser } from "./yaml.js";

export interface ParseConfigOptions {
  /** Named in every error; also the base of relative paths unless `dir` is given. */
  file: string;
  /** Directory relative paths (keystore, CA file, path rules) are taken against; the file's by default. */
  dir?: string | undefined;
  foundBy?: ConfigFoundBy | undefined;
}

interface RawProfile {
  description?: string;
  encrypt?: string[];
  decrypt?: string[];
  context?: Record<string, string>;
  requireContext?: (string | Record<string, string>)[];
  discovery?: DiscoveryFilters;
  providers?: Record<string, Record<string, unknown>>;
  cache?: CacheSettings;
  limits?: LimitSettings;
}

interface RawConfig {
  default?: string;
  profiles: Record<string, RawProfile>;
  rules?: { path?: string; pathRegex?: string; profile: string }[];
}

/**
 * Parses and validates config text, YAML or JSON (JSON is read by the same
 * YAML 1.2 parser, so its errors carry line and column too). Every failure
 * is `INVALID_ARGUMENT` naming the file, line and column.
 */
export function parseConfig(text: string, options: ParseConfigOptions): LoadedConfig {
  if (options === null || typeof options !== "object" || typeof options.file !== "string") {
    throw new EnvelopeError("INVALID_ARGUMENT", "parseConfig needs { file } naming where the text came from");
  }
  const file = options.file;
  if (typeof text !== "string") throw configError(file, undefined, "config text must be a string");
  const dir = options.dir ?? resolve(file, "..");
  const { LineCounter, parseDocument } = yamlParser();
  const lines = new LineCounter();
  // uniqueKeys: a key given twice is an error, not a silent override.
  const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: false });
  const first = doc.errors[0];
  if (first !== undefined) {
    const pos = lines.linePos(first.pos[0]);
    const at = { line: pos.line, column: pos.col };
    throw configError(file, at, `not valid YAML or JSON: ${first.message.split("\n")[0]}`);
  }
  const { value, locations } = validateDocument(file, doc, lines, CONFIG_SPEC);
  const raw = value as RawConfig;
  const at = (path: string) => locations.get(path);
  const names = Object.keys(raw.profiles);
  if (names.length === 0) throw configError(file, at("profiles"), '"profiles" is empty');
  const checkProfileName = (name: string, path: string) => {
    if (!Object.hasOwn(raw.profiles, name)) {
      throw configError(file, at(path), `no profile named "${name}"${suggest(name, names)}`);
    }
  };
  if (raw.default !== undefined) checkProfileName(raw.default, "default");
  const profiles: Record<string, ProfileConfig> = Object.create(null);
  for (const name of names) {
    profiles[name] = profileFrom(raw.profiles[name]!, `profiles.${name}`, { file, dir, locations });
  }
  const rules: PathRule[] = (raw.rules ?? []).map((rule, index) => {
    const path = `rules[${index}]`;
    checkProfileName(rule.profile, `${path}.profile`);
    if ((rule.path === undefined) === (rule.pathRegex === undefined)) {
      throw configError(file, at(path), `"${path}" needs exactly one of "path" (a glob) or "pathRegex"`);
    }
    if (rule.path !== undefined) {
      return Object.freeze({
        pattern: rule.path,
        kind: "glob",
        profile: rule.profile,
        regex: globToRegExp(rule.path),
      });
    }
    let regex: RegExp;
    try {
      regex = new RegExp(rule.pathRegex!, "u");
    } catch (error) {
      throw configError(
        file,
        at(`${path}.pathRegex`),
        `"${path}.pathRegex" is not a valid regular expression`,
        error,
      );
    }
    return Object.freeze({ pattern: rule.pathRegex!, kind: "regex", profile: rule.profile, regex });
  });
  return Object.freeze({
    file,
    dir,
    foundBy: options.foundBy ?? "text",
    // A file with a single profile needs no `default` to use it.
    defaultProfile: raw.default ?? (names.length === 1 ? names[0] : undefined),
    profiles: Object.freeze(profiles),
    rules: Object.freeze(rules),
    locations,
  });
}

interface Where {
  file: string;
  dir: string;
  locations: LocationMap;
}

function profileFrom(raw: RawProfile, path: string, where: Where): ProfileConfig {
  const at = (sub: string) => where.locations.get(`${path}.${sub}`);
  const encrypt = raw.encrypt ?? [];
  const decrypt = raw.decrypt ?? [];
  const seen = new Map<string, string>();
  for (const [list, uris] of [
    ["encrypt", encrypt],
    ["decrypt", decrypt],
  ] as const) {
    uris.forEach((uri, index) => {
      const sub = `${list}[${index}]`;
      try {
        parseKeyUri(uri);
      } catch (error) {
        throw configError(
          where.file,
          at(sub),
          `"${path}.${sub}" is not a key URI (scheme://location)`,
          error,
        );
      }
      const before = seen.get(uri.trim());
      if (before !== undefined) {
        throw configError(where.file, at(sub), `"${path}.${sub}" repeats ${before}`);
      }
      seen.set(uri.trim(), `${path}.${sub}`);
    });
  }
  if (encrypt.length === 0 && decrypt.length === 0 && raw.discovery === undefined) {
    throw configError(
      where.file,
      where.locations.get(path),
      `"${path}" needs "encrypt" or "decrypt" keys, or "discovery"`,
    );
  }
  const requireContext: RequiredContextKey[] = (raw.requireContext ?? []).map((item) => {
    if (typeof item === "string") return Object.freeze({ key: item });
    const [key, value] = Object.entries(item)[0] ?? [];
    if (key === undefined || value === undefined) {
      throw configError(where.file, at("requireContext"), `"${path}.requireContext" has an empty entry`);
    }
    return Object.freeze({ key, value });
  });
  const providers: Record<string, Record<string, unknown>> = Object.create(null);
  for (const [scheme, settings] of Object.entries(raw.providers ?? {})) {
    providers[scheme] = withAbsolutePaths(settings, PATH_SETTINGS[scheme] ?? [], where.dir);
  }
  const profile: ProfileConfig = {
    encrypt,
    decrypt,
    context: raw.context ?? {},
    requireContext,
    providers: providers as ProviderSettings,
  };
  if (raw.description !== undefined) profile.description = raw.description;
  if (raw.discovery !== undefined) profile.discovery = raw.discovery;
  if (raw.cache !== undefined) {
    if (raw.cache.encrypt === undefined && raw.cache.decrypt === undefined) {
      throw configError(where.file, at("cache"), `"${path}.cache" needs "encrypt" and/or "decrypt"`);
    }
    profile.cache = raw.cache;
  }
  if (raw.limits !== undefined) profile.limits = raw.limits;
  return Object.freeze(profile);
}

/** A copy of `settings` with each named path ("field" or "object.field") resolved against `dir`. */
function withAbsolutePaths(
  settings: Readonly<Record<string, unknown>>,
  paths: readonly string[],
  dir: string,
): Readonly<Record<string, unknown>> {
  const copy: Record<string, unknown> = { ...settings };
  for (const path of paths) {
    const [head, field] = path.split(".") as [string, string | undefined];
    if (field !== undefined) {
      const inner = copy[head];
      if (inner !== null && typeof inner === "object") {
        copy[head] = withAbsolutePaths(inner as Record<string, unknown>, [field], dir);
      }
      continue;
    }
    const value = copy[head];
    if (typeof value === "string" && !isAbsolute(value)) copy[head] = resolve(dir, value);
  }
  return Object.freeze(copy);
}
