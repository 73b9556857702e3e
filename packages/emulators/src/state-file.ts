import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";

/**
 * An emulator's key state kept in one JSON file, so keys survive a restart
 * (the `kms-envelope-emulators` command). The file holds key material in
 * clear, like the emulator's memory: it is written 0600, replaced atomically
 * (temp file + rename, so a crash never leaves half a state), and meant for
 * development only.
 */
export interface StateFile<T> {
  /** The saved state, or undefined when the file does not exist yet. */
  load(): T | undefined;
  save(state: T): void;
}

export function createStateFile<T>(path: string, kind: string): StateFile<T> {
  return {
    load() {
      if (!existsSync(path)) return undefined;
      const parsed = JSON.parse(readFileSync(path, "utf8")) as { kind?: unknown; state?: T };
      if (parsed?.kind !== kind || parsed.state === undefined) {
        throw new Error(`${path} is not a ${kind} state file`);
      }
      return parsed.state;
    },
    save(state) {
      const temp = `${path}.${randomBytes(6).toString("hex")}.tmp`;
      try {
        writeFileSync(temp, `${JSON.stringify({ kind, state })}\n`, { mode: 0o600, flag: "wx" });
        renameSync(temp, path);
      } catch (error) {
        rmSync(temp, { force: true });
        throw error;
      }
    },
  };
}

/** Bytes (key material, PKCS#8 DER) as base64 in a state file, and back. */
export const b64 = (bytes: Buffer | Uint8Array): string => Buffer.from(bytes).toString("base64");
export const unb64 = (text: string): Buffer => Buffer.from(text, "base64");

/** A store that can be saved to and restored from a state file. */
export interface PersistableStore<T> {
  snapshot(): T;
  restore(state: T): void;
}

/**
 * Restores `store` from `path` when the file exists, and returns the save
 * to call after each change (a no-op without a path).
 */
export function persistStore<T>(
  store: PersistableStore<T>,
  path: string | undefined,
  kind: string,
): () => void {
  if (path === undefined) return () => {};
  const file = createStateFile<T>(path, kind);
  const saved = file.load();
  if (saved !== undefined) store.restore(saved);
  return () => file.save(store.snapshot());
}
