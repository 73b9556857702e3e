/**
 * Preloaded (`--import`) into a measured process: at exit, writes its whole
 * CPU time (and its user / system split), its peak RSS (VmHWM: a spawned child's maxRSS would start at its
 * parent's) and the bytes it read (`rchar`) to BENCH_STATS_FILE.
 */
import { readFileSync, writeFileSync } from "node:fs";

process.on("exit", () => {
  const status = readFileSync("/proc/self/status", "utf8");
  const io = readFileSync("/proc/self/io", "utf8");
  const cpu = process.cpuUsage();
  writeFileSync(
    process.env.BENCH_STATS_FILE,
    JSON.stringify({
      cpuSeconds: (cpu.user + cpu.system) / 1e6,
      userSeconds: cpu.user / 1e6,
      systemSeconds: cpu.system / 1e6,
      peakRssMiB: Number(/^VmHWM:\s+(\d+) kB$/m.exec(status)?.[1] ?? 0) / 1024,
      readBytes: Number(/^rchar:\s+(\d+)$/m.exec(io)?.[1] ?? 0),
    }),
  );
});
