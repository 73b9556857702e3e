import { CONFIG_SPEC, type Spec } from "./spec.js";

type JsonSchema = Record<string, unknown>;

function convert(spec: Spec): JsonSchema {
  const base: JsonSchema = spec.description === undefined ? {} : { description: spec.description };
  switch (spec.kind) {
    case "string":
      return spec.enum === undefined
        ? { ...base, type: "string" }
        : { ...base, type: "string", enum: [...spec.enum] };
    case "integer":
      return {
        ...base,
        type: "integer",
        ...(spec.minimum === undefined ? {} : { minimum: spec.minimum }),
        ...(spec.maximum === undefined ? {} : { maximum: spec.maximum }),
      };
    case "boolean":
      return { ...base, type: "boolean" };
    case "array":
      return { ...base, type: "array", items: convert(spec.items) };
    case "object":
      return {
        ...base,
        type: "object",
        properties: Object.fromEntries(
          Object.entries(spec.fields).map(([name, field]) => [name, convert(field)]),
        ),
        ...(spec.required === undefined ? {} : { required: [...spec.required] }),
        additionalProperties: false,
      };
    case "map":
      return {
        ...base,
        type: "object",
        additionalProperties: convert(spec.values),
        ...(spec.maxEntries === undefined ? {} : { maxProperties: spec.maxEntries }),
      };
    case "union":
      return { ...base, oneOf: spec.options.map(convert) };
  }
}

/**
 * The JSON Schema (draft 2020-12) of the config file, from the same
 * description the loader validates with. Shipped as `schema.json` for
 * editors: `# yaml-language-server: $schema=./node_modules/@kms-envelope/config/schema.json`.
 */
export function configJsonSchema(): JsonSchema {
  return {
    $schema: "https://json-schema.org/draft/2020-12/schema",
    title: "kms-envelope configuration",
    ...convert(CONFIG_SPEC),
  };
}
