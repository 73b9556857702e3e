import { EnvelopeError } from "../errors.js";
import { requireObject, requireString } from "../validate.js";

/** The kinds of value a URI opener accepts in its per-scheme options. */
export interface OptionKinds {
  string: string;
  number: number;
  boolean: boolean;
  /** Any non-null object: a client, a credential, SDK options. */
  object: object;
  "string[]": readonly string[];
}

export type OptionSpec = Readonly<Record<string, keyof OptionKinds>>;

/** The typed options an OptionSpec describes, each optional. */
export type OptionsOf<S extends OptionSpec> = { -readonly [K in keyof S]?: OptionKinds[S[K]] | undefined };

/**
 * Reads a URI opener's per-scheme options (from code or a config file)
 * against a spec: an unknown name (a misspelling would be silently ignored)
 * or a value of the wrong kind is `INVALID_ARGUMENT`. The result is typed by
 * the spec, so openers need no casts.
 */
export function readOpenOptions<S extends OptionSpec>(
  scheme: string,
  options: unknown,
  spec: S,
): OptionsOf<S> {
  requireString(scheme, "readOpenOptions", "scheme");
  requireObject(spec, "readOpenOptions", "spec");
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new EnvelopeError("INVALID_ARGUMENT", `${scheme} provider options must be an object`);
  }
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(spec, name)) {
      throw new EnvelopeError("INVALID_ARGUMENT", `unknown ${scheme} provider option "${name}"`);
    }
    if (value === undefined) continue;
    const kind = spec[name]!;
    const ok =
      kind === "string[]"
        ? Array.isArray(value) && value.every((item) => typeof item === "string")
        : typeof value === kind && value !== null;
    if (!ok)
      throw new EnvelopeError("INVALID_ARGUMENT", `${scheme} provider option "${name}" must be a ${kind}`);
    result[name] = value;
  }
  return result as OptionsOf<S>;
}

/**
 * Whether `url` points at this machine (127.0.0.0/8, ::1, localhost): the
 * only endpoints for which an opener accepts `insecureTestCredentials` or
 * plain `http://`.
 */
export function isLoopbackUrl(url: string): boolean {
  if (typeof url !== "string") return false;
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return false;
  }
  return host === "localhost" || host === "[::1]" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
