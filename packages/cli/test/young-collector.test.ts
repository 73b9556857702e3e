import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { expect, it } from "vitest";

const COLLECTOR = fileURLToPath(new URL("../dist/io/young-collector.js", import.meta.url));

// A fresh process (the test worker's own flags and GC state stay out of it): feeds the
// collector just under one step, then the last byte, and reports after each whether `gc`
// exists for new contexts and how many young-generation collections Node observed.
const PROBE = `
import { PerformanceObserver, constants } from "node:perf_hooks";
import { runInNewContext } from "node:vm";
const { COLLECT_EVERY, youngCollector } = await import(process.argv[1]);
let minor = 0;
const observer = new PerformanceObserver((list) => {
  for (const entry of list.getEntries()) if (entry.detail?.kind === constants.NODE_PERFORMANCE_GC_MINOR) minor++;
});
observer.observe({ entryTypes: ["gc"] });
const tick = () => new Promise((resolve) => setTimeout(resolve, 20));
const collect = youngCollector();
const report = async () => { await tick(); const seen = { gc: runInNewContext("typeof gc"), minor }; minor = 0; return seen; };
collect(COLLECT_EVERY - 1);
const below = await report();
collect(1);
const at = await report();
process.stdout.write(JSON.stringify({ below, at }));
`;

it("young collector: nothing below one step; at the step, gc is exposed and a young-generation GC runs", () => {
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", PROBE, COLLECTOR], {
    encoding: "utf8",
  });
  const { below, at } = JSON.parse(out) as Record<"below" | "at", { gc: string; minor: number }>;
  expect(below).toEqual({ gc: "undefined", minor: 0 });
  expect(at.gc).toBe("function");
  expect(at.minor).toBeGreaterThanOrEqual(1);
});
