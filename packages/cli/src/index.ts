export { runCli, USAGE, type CliEnvironment } from "./cli.js";
export { EXIT_STATUS } from "./exit-codes.js";
