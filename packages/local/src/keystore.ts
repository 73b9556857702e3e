import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { EnvelopeError, isEnvelopeError, type KeyEncryptionKey } from "@kms-envelope/core";
import { KEY_LENGTH } from "./aes-key-wrap.js";
import { type AuditLogContents, type AuditRecord, appendAudit, readAuditLog } from "./audit-log.js";
import { type FileLockOptions, withFileLock } from "./file-lock.js";
import {
  checkName,
  describe,
  type KeyInfo,
  type KeystoreData,
  type StoredKey,
  type StoredVersion,
} from "./keystore-data.js";
import { fileVersion, removeOrphanedTemporaries, writeFileAtomic } from "./keystore-file.js";
import { createKeystoreKek } from "./keystore-kek.js";

export type { KeyInfo, KeyState } from "./keystore-data.js";

export interface KeystoreOptions {
  /** The keystore file; defaults to `defaultKeystorePath()`. */
  path?: string | undefined;
  /** Clock for deletion dates (tests). */
  now?: (() => Date) | undefined;
  /** Lock tuning: how long to wait, the lease, when an unreadable lock file is stale. */
  lock?: FileLockOptions | undefined;
}

export const DEFAULT_DELETION_WAITING_DAYS = 30;
export const MINIMUM_DELETION_WAITING_DAYS = 7;
const DAY_MS = 24 * 60 * 60 * 1000;

/** `KMS_ENVELOPE_KEYSTORE`, else `$XDG_CONFIG_HOME/kms-envelope/keystore.json`, else `~/.config/…`. */
export function defaultKeystorePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.KMS_ENVELOPE_KEYSTORE) return env.KMS_ENVELOPE_KEYSTORE;
  const configHome = env.XDG_CONFIG_HOME || join(homedir(), ".config");
  return join(configHome, "kms-envelope", "keystore.json");
}

export interface Keystore {
  readonly path: string;
  readonly auditLogPath: string;
  create(name: string): KeyInfo;
  list(): KeyInfo[];
  get(name: string): KeyInfo;
  rotate(name: string): KeyInfo;
  disable(name: string): KeyInfo;
  enable(name: string): KeyInfo;
  scheduleDeletion(name: string, options?: { waitingDays?: number }): KeyInfo;
  cancelDeletion(name: string): KeyInfo;
  /** A KEK backed by this keystore's key `name` (state is re-read when the file changes). */
  kek(name: string): KeyEncryptionKey;
  /** The audit log's records, oldest first; damaged lines are skipped (see `readAudit`). */
  audit(): AuditRecord[];
  /** The audit log's records and the line numbers of damaged lines it skipped. */
  readAudit(): AuditLogContents;
}

function checkOptions(options: unknown): KeystoreOptions {
  if (options === undefined) return {};
  if (typeof options !== "object" || options === null) {
    throw new EnvelopeError("INVALID_ARGUMENT", "openKeystore takes an options object");
  }
  const { path, now, lock } = options as KeystoreOptions;
  if (path !== undefined && (typeof path !== "string" || path.length === 0)) {
    throw new EnvelopeError("INVALID_ARGUMENT", "openKeystore: path must be a non-empty string");
  }
  if (now !== undefined && typeof now !== "function") {
    throw new EnvelopeError("INVALID_ARGUMENT", "openKeystore: now must be a function returning a Date");
  }
  if (lock !== undefined) {
    if (typeof lock !== "object" || lock === null) {
      throw new EnvelopeError("INVALID_ARGUMENT", "openKeystore: lock must be an object");
    }
    for (const [field, value] of Object.entries(lock)) {
      if (value !== undefined && (typeof value !== "number" || !Number.isFinite(value) || value <= 0)) {
        throw new EnvelopeError(
          "INVALID_ARGUMENT",
          `openKeystore: lock.${field} must be a positive number of ms`,
        );
      }
    }
  }
  return options as KeystoreOptions;
}

export function openKeystore(given?: KeystoreOptions): Keystore {
  const options = checkOptions(given);
  const path = options.path ?? defaultKeystorePath();
  const auditLogPath = path.replace(/\.json$/, "") + ".audit.jsonl";
  const now = options.now ?? (() => new Date());
  let cache: { version: string | undefined; data: KeystoreData } | undefined;

  const record = (operation: string, key: string, outcome: "ok" | "error", version?: number, code?: string) =>
    appendAudit(auditLogPath, { time: now().toISOString(), operation, key, version, outcome, code });

  /**
   * Records a failure, then throws it. If the record cannot be written either,
   * the failure becomes `KEYSTORE_ERROR` (with the original as `cause`): every
   * audit-log failure on every path is `KEYSTORE_ERROR`.
   */
  function fail(operation: string, key: string, error: unknown, version?: number): never {
    const failure = isEnvelopeError(error)
      ? error
      : new EnvelopeError("KEYSTORE_ERROR", `keystore: ${operation} failed`, { cause: error });
    try {
      record(operation, key, "error", version, failure.code);
    } catch (auditError) {
      throw new EnvelopeError("KEYSTORE_ERROR", (auditError as Error).message, { cause: failure });
    }
    throw failure;
  }

  function read(): KeystoreData {
    const version = fileVersion(path);
    if (cache !== undefined && cache.version === version) return cache.data;
    let data: KeystoreData = { format: "kms-envelope-keystore", version: 1, keys: {} };
    if (version !== undefined) {
      let text: string;
      try {
        text = readFileSync(path, "utf8");
      } catch (error) {
        throw new EnvelopeError(
          "KEYSTORE_ERROR",
          `keystore: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? "error"})`,
        );
      }
      try {
        data = JSON.parse(text) as KeystoreData;
      } catch {
        // No cause and no parser message: JSON.parse quotes the input around the error, key material included.
        throw new EnvelopeError("KEYSTORE_ERROR", `keystore: ${path} is not valid JSON`);
      }
      if (data.format !== "kms-envelope-keystore" || data.version !== 1 || typeof data.keys !== "object") {
        throw new EnvelopeError("KEYSTORE_ERROR", `keystore: ${path} has an unknown format`);
      }
    }
    cache = { version, data };
    return data;
  }

  /** A key past its deletion date is gone: reads treat it as absent and the next write purges it. */
  function live(data: KeystoreData, name: string): StoredKey | undefined {
    const key = Object.hasOwn(data.keys, name) ? data.keys[name] : undefined;
    if (
      key?.state === "pending-deletion" &&
      key.deletionDate &&
      Date.parse(key.deletionDate) <= now().getTime()
    ) {
      return undefined;
    }
    return key;
  }

  function mustGet(data: KeystoreData, name: string): StoredKey {
    const key = live(data, name);
    if (key === undefined) throw new EnvelopeError("KEY_NOT_FOUND", `keystore: no key named "${name}"`);
    return key;
  }

  /**
   * Read-modify-write under the lock, then the audit record, still under the
   * lock (so the log's order is the file's order). Order decided: change, then
   * audit. A change whose record cannot be appended is saved but reported as
   * `KEYSTORE_ERROR` saying so; a failed change is recorded as an error.
   */
  function mutate(operation: string, name: string, change: (data: KeystoreData) => StoredKey): KeyInfo {
    let saved: StoredKey | undefined;
    try {
      return withFileLock(
        path,
        (lock) => {
          cache = undefined;
          const data = read();
          for (const existing of Object.keys(data.keys))
            if (live(data, existing) === undefined) delete data.keys[existing];
          const changed = change(data);
          removeOrphanedTemporaries(path);
          lock.assertHeld();
          writeFileAtomic(path, `${JSON.stringify(data, null, 2)}\n`);
          cache = undefined;
          saved = changed;
          try {
            record(operation, name, "ok", changed.primaryVersion);
          } catch (auditError) {
            throw new EnvelopeError(
              "KEYSTORE_ERROR",
              `keystore: ${operation} "${name}" was saved, but its audit record was not: ${(auditError as Error).message}`,
            );
          }
          return describe(changed);
        },
        options.lock,
      );
    } catch (error) {
      if (saved !== undefined) throw error;
      return fail(operation, name, error);
    }
  }

  function newVersion(version: number): StoredVersion {
    return { version, createdAt: now().toISOString(), material: randomBytes(KEY_LENGTH).toString("base64") };
  }

  const keystore: Keystore = {
    path,
    auditLogPath,
    create(name) {
      checkName(name);
      return mutate("create", name, (data) => {
        if (live(data, name) !== undefined)
          throw new EnvelopeError("INVALID_ARGUMENT", `keystore: key "${name}" exists`);
        const key: StoredKey = {
          name,
          createdAt: now().toISOString(),
          state: "enabled",
          primaryVersion: 1,
          versions: [newVersion(1)],
        };
        data.keys[name] = key;
        return key;
      });
    },
    list() {
      const data = read();
      return Object.keys(data.keys)
        .sort()
        .flatMap((name) => {
          const key = live(data, name);
          return key ? [describe(key)] : [];
        });
    },
    get: (name) => describe(mustGet(read(), checkName(name))),
    rotate(name) {
      checkName(name);
      return mutate("rotate", name, (data) => {
        const key = mustGet(data, name);
        if (key.state !== "enabled")
          throw new EnvelopeError("KEY_DISABLED", `keystore: key "${name}" is ${key.state}`);
        const version = Math.max(...key.versions.map((entry) => entry.version)) + 1;
        key.versions.push(newVersion(version));
        key.primaryVersion = version;
        return key;
      });
    },
    disable(name) {
      checkName(name);
      return mutate("disable", name, (data) => {
        const key = mustGet(data, name);
        if (key.state === "pending-deletion")
          throw new EnvelopeError("KEY_DISABLED", `keystore: key "${name}" is pending deletion`);
        key.state = "disabled";
        return key;
      });
    },
    enable(name) {
      checkName(name);
      return mutate("enable", name, (data) => {
        const key = mustGet(data, name);
        if (key.state === "pending-deletion") {
          throw new EnvelopeError(
            "KEY_DISABLED",
            `keystore: key "${name}" is pending deletion; cancel the deletion first`,
          );
        }
        key.state = "enabled";
        return key;
      });
    },
    scheduleDeletion(name, scheduleOptions = {}) {
      checkName(name);
      if (typeof scheduleOptions !== "object" || scheduleOptions === null) {
        throw new EnvelopeError("INVALID_ARGUMENT", "scheduleDeletion takes an options object");
      }
      const days = scheduleOptions.waitingDays ?? DEFAULT_DELETION_WAITING_DAYS;
      return mutate("schedule-deletion", name, (data) => {
        if (!Number.isInteger(days) || days < MINIMUM_DELETION_WAITING_DAYS) {
          throw new EnvelopeError(
            "INVALID_ARGUMENT",
            `keystore: the waiting period is at least ${MINIMUM_DELETION_WAITING_DAYS} whole days`,
          );
        }
        const key = mustGet(data, name);
        if (key.state !== "pending-deletion") key.stateBeforeDeletion = key.state;
        key.state = "pending-deletion";
        key.deletionDate = new Date(now().getTime() + days * DAY_MS).toISOString();
        return key;
      });
    },
    cancelDeletion(name) {
      checkName(name);
      return mutate("cancel-deletion", name, (data) => {
        const key = mustGet(data, name);
        if (key.state !== "pending-deletion") {
          throw new EnvelopeError("INVALID_ARGUMENT", `keystore: key "${name}" is not pending deletion`);
        }
        key.state = key.stateBeforeDeletion ?? "enabled";
        delete key.stateBeforeDeletion;
        delete key.deletionDate;
        return key;
      });
    },
    kek: (name) => createKeystoreKek(name, { usable, record, fail }),
    audit: () => [...readAuditLog(auditLogPath).records],
    readAudit: () => readAuditLog(auditLogPath),
  };

  function usable(name: string, operation: string): StoredKey {
    const key = mustGet(read(), name);
    if (key.state !== "enabled") {
      fail(operation, name, new EnvelopeError("KEY_DISABLED", `keystore: key "${name}" is ${key.state}`));
    }
    return key;
  }

  return Object.freeze(keystore);
}
