export { type CliEnvironment, cliVersion, runCli } from "./cli.js";
export { BROKEN_PIPE_STATUS, type CliCode, EXIT_STATUS } from "./exit-codes.js";
