/** The command as `bin.js` starts it (after enabling the compile cache): signals, then `runCli`. */
import { runCli } from "./cli.js";
import { EXIT_STATUS } from "./exit-codes.js";
import { removeLiveTemps } from "./io/temp-files.js";

// A closed standard output is handled where it is written; never crash on the event.
process.stdout.on("error", () => {});

const controller = new AbortController();
let interrupted = false;
for (const name of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(name, () => {
    if (interrupted) {
      // A second signal: stop now, still without leaving a temp file.
      removeLiveTemps();
      process.exit(EXIT_STATUS.ABORTED);
    }
    interrupted = true;
    controller.abort(new Error(`${name} received`));
  });
}
// Whatever ends the process, a temp file it still holds goes with it.
process.on("exit", removeLiveTemps);

const status = await runCli(process.argv.slice(2), {
  env: process.env,
  log: (line) => process.stderr.write(`${line}\n`),
  signal: controller.signal,
  cwd: process.cwd(),
});
process.exitCode = interrupted ? EXIT_STATUS.ABORTED : status;
