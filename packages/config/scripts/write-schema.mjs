// Regenerates schema.json from the built package (run `pnpm build` first).
import { writeFileSync } from "node:fs";
import { configJsonSchema } from "../dist/index.js";

writeFileSync(new URL("../schema.json", import.meta.url), `${JSON.stringify(configJsonSchema(), null, 2)}\n`);
