/**
 * BENCH_BASELINE=<directory of a built @kms-envelope/core (package.json + dist)>
 * adds "kms-envelope baseline" next to kms-envelope, buffers and streams, so a
 * change is measured before and after in the same run (same machine load):
 *   cp -r packages/core/{package.json,dist} /tmp/core-before   # before the change
 *   BENCH_BASELINE=/tmp/core-before pnpm bench                 # after it
 */
import { join } from "node:path";
import { pathToFileURL } from "node:url";

const directory = process.env.BENCH_BASELINE;
export const baselineCore =
  directory === undefined || directory === ""
    ? undefined
    : await import(pathToFileURL(join(directory, "dist", "index.js")).href);
