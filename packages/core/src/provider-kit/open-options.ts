import { EnvelopeError } from "../errors.js";
import { invalid, requireObject, requireString } from "../validate.js";

/** The kinds of value a URI opener accepts in its per-scheme options, by name. */
export interface OptionKinds {
  string: string;
  number: number;
  boolean: boolean;
  /** Any non-null object: a client, a credential, SDK options. */
  object: object;
  "string[]": readonly string[];
}

/**
 * What one option may be: a kind by name; a list of the strings it may be
 * (`["standard", "adaptive"]`); or `{ anyOf }` several kinds (a credential
 * that is a name from a config file or an object from code).
 */
export type OptionKind = keyof OptionKinds | readonly string[] | { readonly anyOf: readonly OptionKind[] };

export type OptionSpec = Readonly<Record<string, OptionKind>>;

/** The kind a spec must give an option of type `T`: the options type decides, so openers need no casts. */
export type OptionKindFor<T> = unknown extends T
  ? OptionKind
  : [T] extends [boolean]
    ? "boolean"
    : [T] extends [number]
      ? "number"
      : [T] extends [readonly string[]]
        ? "string[]"
        : [T] extends [string]
          ? string extends T
            ? "string"
            : readonly T[]
          : [T] extends [object]
            ? "object"
            : { readonly anyOf: readonly OptionKind[] };

/** A spec for the options type `O`: one kind for each of its options. */
export type OptionSpecFor<O> = { readonly [K in keyof O]-?: OptionKindFor<Exclude<O[K], undefined>> };

/** The typed options an OptionSpec describes, each optional. */
export type OptionsOf<S extends OptionSpec> = { -readonly [K in keyof S]?: ValueOf<S[K]> | undefined };
type ValueOf<K> = K extends keyof OptionKinds
  ? OptionKinds[K]
  : K extends readonly (infer V)[]
    ? V
    : K extends { readonly anyOf: readonly (infer A)[] }
      ? ValueOf<A>
      : never;

function fits(value: unknown, kind: OptionKind): boolean {
  if (kind === "string[]") return Array.isArray(value) && value.every((item) => typeof item === "string");
  if (typeof kind === "string") return typeof value === kind && value !== null;
  if (Array.isArray(kind)) return kind.includes(value);
  return (kind as { anyOf: readonly OptionKind[] }).anyOf.some((alternative) => fits(value, alternative));
}

function isKind(kind: unknown): kind is OptionKind {
  if (typeof kind === "string") return ["string", "number", "boolean", "object", "string[]"].includes(kind);
  if (Array.isArray(kind)) return kind.every((value) => typeof value === "string");
  const anyOf = (kind as { anyOf?: unknown } | null)?.anyOf;
  return Array.isArray(anyOf) && anyOf.every(isKind);
}

function describe(kind: OptionKind): string {
  if (typeof kind === "string") return `${kind === "object" ? "an" : "a"} ${kind}`;
  if (Array.isArray(kind)) return `one of ${kind.map((value) => `"${value}"`).join(", ")}`;
  return (kind as { anyOf: readonly OptionKind[] }).anyOf.map(describe).join(" or ");
}

/**
 * Reads a URI opener's per-scheme options (from code or a config file)
 * against a spec: an unknown name (a misspelling would be silently ignored)
 * or a value of the wrong kind is `INVALID_ARGUMENT`. Typed by the options
 * type the spec is written for (`readOpenOptions<AcmeOptions>(…)`), so the
 * result goes to the KEK factory as it is: no casts, no fields re-listed.
 */
export function readOpenOptions<O extends object>(
  scheme: string,
  options: unknown,
  spec: OptionSpecFor<O>,
): Partial<O> {
  requireString(scheme, "readOpenOptions", "scheme");
  requireObject(spec, "readOpenOptions", "spec");
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null || Array.isArray(options)) {
    throw new EnvelopeError("INVALID_ARGUMENT", `${scheme} provider options must be an object`);
  }
  const kinds = spec as Readonly<Record<string, unknown>>;
  const result: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(options)) {
    if (!Object.hasOwn(kinds, name)) {
      throw new EnvelopeError("INVALID_ARGUMENT", `unknown ${scheme} provider option "${name}"`);
    }
    const kind = kinds[name];
    if (!isKind(kind)) invalid("readOpenOptions", `spec.${name} is not an option kind`);
    if (value === undefined) continue;
    if (!fits(value, kind)) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        `${scheme} provider option "${name}" must be ${describe(kind)}`,
      );
    }
    result[name] = value;
  }
  return result as Partial<O>;
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
