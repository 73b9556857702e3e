import { EnvelopeError } from "@kms-envelope/core";

export type KeyState = "enabled" | "disabled" | "pending-deletion";

export interface StoredVersion {
  version: number;
  createdAt: string;
  /** base64 AES-256 key material. The keystore is a development tool: see docs/providers/local.md. */
  material: string;
}

export interface StoredKey {
  name: string;
  createdAt: string;
  state: KeyState;
  /** The state to return to when a scheduled deletion is cancelled. */
  stateBeforeDeletion?: "enabled" | "disabled";
  deletionDate?: string;
  primaryVersion: number;
  versions: StoredVersion[];
}

export interface KeystoreData {
  format: "kms-envelope-keystore";
  version: 1;
  keys: Record<string, StoredKey>;
}

/** What `list` and the key operations return: everything but key material. */
export interface KeyInfo {
  readonly name: string;
  readonly uri: string;
  readonly state: KeyState;
  readonly createdAt: string;
  readonly primaryVersion: number;
  readonly versions: readonly { readonly version: number; readonly createdAt: string }[];
  readonly deletionDate?: string;
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/;

/** The one rule for key names; anything else (a non-string included) is `INVALID_ARGUMENT`. */
export function checkName(name: unknown): string {
  if (typeof name !== "string" || !NAME_PATTERN.test(name)) {
    const shown = typeof name === "string" ? JSON.stringify(name.slice(0, 140)) : typeof name;
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `keystore: ${shown} is not a valid key name (1–128 of A–Z a–z 0–9 . _ -, starting with a letter or digit)`,
    );
  }
  return name;
}

/** A key as `list` and the key operations show it: no key material. */
export function describe(key: StoredKey): KeyInfo {
  return Object.freeze({
    name: key.name,
    uri: `local://${key.name}`,
    state: key.state,
    createdAt: key.createdAt,
    primaryVersion: key.primaryVersion,
    versions: key.versions.map(({ version, createdAt }) => ({ version, createdAt })),
    ...(key.deletionDate === undefined ? {} : { deletionDate: key.deletionDate }),
  });
}
