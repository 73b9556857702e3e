import { BrokenPipe, CliIoError, errnoText, isBrokenPipe } from "../cli-errors.js";

/** Writes text to standard output; a closed pipe is `BrokenPipe`, a full disk one IO_ERROR. */
export function writeStdout(text: string): Promise<void> {
  return new Promise((done, fail) => {
    process.stdout.write(text, (error) => {
      if (error === null || error === undefined) return done();
      fail(
        isBrokenPipe(error)
          ? new BrokenPipe()
          : new CliIoError(`cannot write standard output: ${errnoText(error)}`),
      );
    });
  });
}
