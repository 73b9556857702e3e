import { EnvelopeError } from "../errors.js";
import { invalid, requireObject, requireString } from "../validate.js";

/** What one key-URI parameter may be: any text, `true`/`false`, or one of a list of names. */
export type UriParameterKind = "string" | "boolean" | readonly string[];

export type UriParameterSpec = Readonly<Record<string, UriParameterKind>>;

type ParameterValue<K> = K extends "boolean"
  ? boolean
  : K extends "string"
    ? string
    : K extends readonly (infer V)[]
      ? V
      : never;

/** The parameters a spec describes, each present only when the URI gave it. */
export type UriParametersOf<S extends UriParameterSpec> = { -readonly [K in keyof S]?: ParameterValue<S[K]> };

/**
 * Reads the query of a key URI (`region=…&mrk=true`, without the `?`)
 * against a spec: an unknown name (a misspelling would be silently
 * ignored), a name given twice, an empty value or one of the wrong kind is
 * `INVALID_ARGUMENT` naming the parameter. `"boolean"` parameters are
 * `true` or `false` exactly.
 */
export function readUriParameters<const S extends UriParameterSpec>(
  scheme: string,
  query: string,
  spec: S,
): UriParametersOf<S> {
  if (requireString(scheme, "readUriParameters", "scheme") === "") {
    invalid("readUriParameters", "scheme must not be empty");
  }
  if (typeof query !== "string") invalid("readUriParameters", "query must be a string");
  requireObject(spec, "readUriParameters", "spec");
  const result: Record<string, string | boolean> = {};
  for (const [name, value] of new URLSearchParams(query)) {
    const kind: unknown = Object.hasOwn(spec, name) ? spec[name] : undefined;
    const what = `${scheme}:// parameter "${name}"`;
    if (kind === undefined) throw new EnvelopeError("INVALID_ARGUMENT", `unknown ${what}`);
    if (Object.hasOwn(result, name)) throw new EnvelopeError("INVALID_ARGUMENT", `${what} is given twice`);
    if (kind === "boolean") {
      if (value !== "true" && value !== "false") {
        throw new EnvelopeError("INVALID_ARGUMENT", `${what} must be true or false`);
      }
      result[name] = value === "true";
    } else if (Array.isArray(kind)) {
      if (!kind.includes(value)) {
        const names = kind.map((allowed) => `"${allowed}"`).join(", ");
        throw new EnvelopeError("INVALID_ARGUMENT", `${what} must be one of ${names}`);
      }
      result[name] = value;
    } else if (kind === "string") {
      if (value === "") throw new EnvelopeError("INVALID_ARGUMENT", `${what} is empty`);
      result[name] = value;
    } else {
      invalid("readUriParameters", `spec.${name} is not a parameter kind`);
    }
  }
  return result as UriParametersOf<S>;
}
