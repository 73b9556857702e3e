/** An input or output the operating system refused (full disk, I/O error, permission). */
export class CliIoError extends Error {
  override readonly name = "CliIoError";
  readonly code = "IO_ERROR" as const;
}

/** Standard output was closed by its reader: the command ends quietly. */
export class BrokenPipe extends Error {
  override readonly name = "BrokenPipe";
}

const ERRNO_TEXT: Readonly<Record<string, string>> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EIO: "input/output error",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EROFS: "read-only file system",
  ENOENT: "no such file or directory",
  EISDIR: "is a directory",
  ENOTDIR: "a path component is not a directory",
  ENXIO: "no reader or device",
  EFBIG: "file too large",
};

/** `ENOSPC (no space left on device)`: the errno code and what it means, never a stack. */
export function errnoText(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== "string") return error instanceof Error ? error.message : String(error);
  const text = ERRNO_TEXT[code];
  return text === undefined ? code : `${code} (${text})`;
}

export function isBrokenPipe(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === "EPIPE" || error instanceof BrokenPipe;
}
