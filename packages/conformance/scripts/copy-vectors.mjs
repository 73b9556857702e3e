// Ships the shared test-vector manifest inside the package, so third-party providers can run it.
import { copyFileSync, existsSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const source = join(here, "..", "..", "..", "test-vectors", "manifest.json");
const target = join(here, "..", "vectors");
mkdirSync(target, { recursive: true });
if (existsSync(source)) copyFileSync(source, join(target, "manifest.json"));
