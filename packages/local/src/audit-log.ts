import { appendFileSync, readFileSync } from "node:fs";
import { EnvelopeError } from "@kms-envelope/core";

/** One line of the append-only audit log. Never holds key material. */
export interface AuditRecord {
  readonly time: string;
  readonly operation: string;
  readonly key: string;
  readonly version?: number | undefined;
  readonly outcome: "ok" | "error";
  readonly code?: string | undefined;
}

/** What reading the audit log found: the records, oldest first, and the lines that are not records. */
export interface AuditLogContents {
  readonly records: readonly AuditRecord[];
  /** 1-based line numbers of damaged lines (a torn write, an edit), skipped; their text is never repeated. */
  readonly damagedLines: readonly number[];
}

/**
 * Appends JSON lines with O_APPEND: each record is a single write, so lines
 * from concurrent processes do not interleave on a local file system.
 * A failure is `KEYSTORE_ERROR`: the caller decides what it means for the
 * operation it was recording (see docs/providers/local.md, "Audit log").
 */
export function appendAudit(path: string, record: AuditRecord): void {
  try {
    appendFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
  } catch (error) {
    throw new EnvelopeError(
      "KEYSTORE_ERROR",
      `keystore: cannot append to the audit log ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
    );
  }
}

function asRecord(line: string): AuditRecord | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  if (typeof value !== "object" || value === null) return undefined;
  const record = value as Record<string, unknown>;
  const valid =
    typeof record.time === "string" &&
    typeof record.operation === "string" &&
    typeof record.key === "string" &&
    (record.outcome === "ok" || record.outcome === "error") &&
    (record.version === undefined || Number.isInteger(record.version)) &&
    (record.code === undefined || typeof record.code === "string");
  return valid ? (record as unknown as AuditRecord) : undefined;
}

/** Reads the log, skipping (and counting) damaged lines instead of failing on them. A missing log is empty. */
export function readAuditLog(path: string): AuditLogContents {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return { records: [], damagedLines: [] };
    throw new EnvelopeError(
      "KEYSTORE_ERROR",
      `keystore: cannot read the audit log ${path} (${code ?? "error"})`,
    );
  }
  const records: AuditRecord[] = [];
  const damagedLines: number[] = [];
  const lines = text.split("\n");
  lines.forEach((line, index) => {
    if (line.length === 0) return;
    const record = asRecord(line);
    if (record === undefined) damagedLines.push(index + 1);
    else records.push(record);
  });
  return { records, damagedLines };
}
