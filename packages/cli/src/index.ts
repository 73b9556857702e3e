export { type CliEnvironment, runCli, USAGE } from "./cli.js";
export { EXIT_STATUS } from "./exit-codes.js";
