/**
 * What a command needs from its process, passed in rather than read from
 * globals so the commands stay testable and the import graph stays acyclic
 * (`cli.ts` imports the commands; the commands import only this and below).
 */
export interface CliEnvironment {
  readonly env: NodeJS.ProcessEnv;
  /** Human-readable progress and results (standard error, so standard output stays data). */
  readonly log: (line: string) => void;
  /** Fires on SIGINT, SIGTERM or SIGHUP: streams stop, temp files go, the status is `ABORTED`'s. */
  readonly signal: AbortSignal;
  /** Working directory for relative paths and config search. */
  readonly cwd: string;
}

/** One command's parsed options: flag name → string, string list or boolean. */
export type CommandValues = Readonly<Record<string, string | boolean | string[] | undefined>>;

export interface CommandInput {
  readonly values: CommandValues;
  readonly positionals: readonly string[];
}

export type CommandRunner = (input: CommandInput, environment: CliEnvironment) => Promise<unknown>;
