import { createRequire } from "node:module";
import type * as Yaml from "yaml";

let loaded: typeof Yaml | undefined;

/**
 * The YAML parser, loaded when the first config text is parsed rather than
 * when this package is imported: `yaml` is about 70 module files, and most
 * runs of the CLI (any with `--key`, or with no config file) parse none, so
 * they no longer pay for loading it. `require` keeps `parseConfig`
 * synchronous; `yaml` is CommonJS under Node's "node" condition either way.
 */
export function yamlParser(): typeof Yaml {
  loaded ??= createRequire(import.meta.url)("yaml") as typeof Yaml;
  return loaded;
}
