import { appendFileSync } from "node:fs";

/** One line of the append-only audit log. Never holds key material. */
export interface AuditRecord {
  readonly time: string;
  readonly operation: string;
  readonly key: string;
  readonly version?: number | undefined;
  readonly outcome: "ok" | "error";
  readonly code?: string | undefined;
}

/**
 * Appends JSON lines with O_APPEND: each record is a single write, so lines
 * from concurrent processes do not interleave on a local file system.
 */
export function appendAudit(path: string, record: AuditRecord): void {
  appendFileSync(path, `${JSON.stringify(record)}\n`, { mode: 0o600 });
}
