import { EnvelopeError } from "@kms-envelope/core";
import type { Document, LineCounter, Node } from "yaml";
import type { Spec } from "./spec.js";
import { yamlParser } from "./yaml.js";

/** 1-based line and column of a value in the config file. */
export interface SourceLocation {
  readonly line: number;
  readonly column: number;
}

/** Where each value came from, by its path in the file ("profiles.prod.encrypt[0]"). */
export type LocationMap = ReadonlyMap<string, SourceLocation>;

interface Walk {
  readonly file: string;
  readonly doc: Document;
  readonly lines: LineCounter;
  readonly locations: Map<string, SourceLocation>;
}

/** `INVALID_ARGUMENT` naming file, line and column: the form every config error takes. */
export function configError(file: string, at: SourceLocation | undefined, message: string, cause?: unknown) {
  const where = at === undefined ? file : `${file}:${at.line}:${at.column}`;
  return new EnvelopeError("INVALID_ARGUMENT", `${where}: ${message}`, cause === undefined ? {} : { cause });
}

/**
 * Turns a parsed YAML/JSON document into plain data, checking every value
 * against `spec`: unknown fields fail with the nearest valid name, wrong
 * types with the expected one, each naming its line and column.
 */
export function validateDocument(
  file: string,
  doc: Document,
  lines: LineCounter,
  spec: Spec,
): { value: unknown; locations: LocationMap } {
  const walk: Walk = { file, doc, lines, locations: new Map() };
  const root = doc.contents;
  if (root === null) throw configError(file, undefined, "the file is empty");
  return { value: visit(walk, root as Node, spec, ""), locations: walk.locations };
}

function locate(walk: Walk, node: Node | null | undefined): SourceLocation | undefined {
  const offset = node?.range?.[0];
  if (offset === undefined) return undefined;
  const { line, col } = walk.lines.linePos(offset);
  return { line, column: col };
}

function label(path: string): string {
  return path === "" ? "the top level" : `"${path}"`;
}

function visit(walk: Walk, input: Node, spec: Spec, path: string): unknown {
  const { isAlias, isMap, isScalar, isSeq } = yamlParser();
  const node = isAlias(input) ? (input.resolve(walk.doc) as Node | undefined) : input;
  const at = locate(walk, input);
  if (at !== undefined) walk.locations.set(path, at);
  const fail = (message: string) => configError(walk.file, at, `${label(path)} ${message}`);
  if (node === undefined) throw fail("refers to an unknown anchor");
  switch (spec.kind) {
    case "string":
    case "integer":
    case "boolean": {
      if (!isScalar(node)) throw fail(`must be a ${spec.kind}`);
      const value = node.value;
      if (spec.kind === "string") {
        if (typeof value !== "string") throw fail("must be a string (quote it)");
        if (spec.enum !== undefined && !spec.enum.includes(value)) {
          throw fail(`must be one of ${spec.enum.join(", ")}${suggest(value, spec.enum)}`);
        }
        return value;
      }
      if (spec.kind === "boolean") {
        if (typeof value !== "boolean") throw fail("must be true or false");
        return value;
      }
      if (typeof value !== "number" || !Number.isInteger(value)) throw fail("must be an integer");
      if (
        (spec.minimum !== undefined && value < spec.minimum) ||
        (spec.maximum !== undefined && value > spec.maximum)
      ) {
        throw fail(`must be between ${spec.minimum} and ${spec.maximum}`);
      }
      return value;
    }
    case "array": {
      if (!isSeq(node)) throw fail("must be a list");
      return node.items.map((item, index) => visit(walk, item as Node, spec.items, `${path}[${index}]`));
    }
    case "map":
    case "object": {
      if (!isMap(node)) throw fail("must be a mapping");
      if (spec.kind === "map" && spec.maxEntries !== undefined && node.items.length > spec.maxEntries) {
        throw fail(`must hold at most ${spec.maxEntries} entry`);
      }
      // Object.create(null): a key such as "__proto__" stays plain data.
      const out: Record<string, unknown> = Object.create(null);
      for (const pair of node.items) {
        const keyNode = pair.key as Node;
        const keyAt = locate(walk, keyNode);
        const key = isScalar(keyNode) ? keyNode.value : undefined;
        if (typeof key !== "string") {
          throw configError(walk.file, keyAt, `${label(path)}: keys must be strings`);
        }
        const childPath = path === "" ? key : `${path}.${key}`;
        let child: Spec;
        if (spec.kind === "map") {
          child = spec.values;
        } else {
          const field = spec.fields[key];
          const refused = spec.refused?.[key];
          if (field === undefined && refused !== undefined) {
            throw configError(walk.file, keyAt, `"${key}" is not accepted in ${label(path)}: ${refused}`);
          }
          if (field === undefined) {
            const known = Object.keys(spec.fields);
            throw configError(
              walk.file,
              keyAt,
              `unknown field "${key}" in ${label(path)}${suggest(key, known)}` +
                (known.length > 0 ? ` (valid: ${known.join(", ")})` : " (it takes no fields)"),
            );
          }
          child = field;
        }
        if (pair.value === null) throw configError(walk.file, keyAt, `"${childPath}" has no value`);
        out[key] = visit(walk, pair.value as Node, child, childPath);
      }
      if (spec.kind === "object") {
        for (const name of spec.required ?? []) {
          if (!(name in out)) throw fail(`needs "${name}"`);
        }
      }
      return out;
    }
    case "union": {
      // Options are told apart by the node's shape, which is all a config needs.
      const option = spec.options.find((candidate) =>
        candidate.kind === "map" || candidate.kind === "object"
          ? isMap(node)
          : candidate.kind === "array"
            ? isSeq(node)
            : isScalar(node),
      );
      if (option === undefined) throw fail("has the wrong shape");
      return visit(walk, input, option, path);
    }
  }
}

/** ` (did you mean "x"?)` for the nearest candidate within a small edit distance, else "". */
export function suggest(word: string, candidates: readonly string[]): string {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(word.toLowerCase(), candidate.toLowerCase());
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  const tolerance = Math.max(2, Math.floor(word.length / 3));
  return best !== undefined && bestDistance <= tolerance ? ` (did you mean "${best}"?)` : "";
}

function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min(previous[j]! + 1, current[j - 1]! + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length]!;
}
