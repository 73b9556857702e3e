import { EnvelopeError, type KeyEncryptionKey, throwIfAborted } from "@kms-envelope/core";
import { aadPrefix, secureFill, unwrapDek, wrapAad, wrapDek } from "./aes-key-wrap.js";
import { checkName, type StoredKey } from "./keystore-data.js";
import { LOCAL_PROVIDER } from "./local-kek.js";

/** What a keystore KEK needs of its keystore: the current key state and the audit log. */
export interface KeystoreAccess {
  /** The key, if it exists and is enabled; otherwise records the failure and throws. */
  usable(name: string, operation: string): StoredKey;
  record(operation: string, key: string, outcome: "ok" | "error", version?: number, code?: string): void;
  /** Records a failure, then throws it (`KEYSTORE_ERROR` if the record cannot be written). */
  fail(operation: string, key: string, error: unknown, version?: number): never;
}

/**
 * A KEK over one keystore key. Key state is read on every call (the file may
 * change under it), and every wrap and unwrap leaves an audit record first.
 */
export function createKeystoreKek(name: string, store: KeystoreAccess): KeyEncryptionKey {
  const { usable, record, fail } = store;
  checkName(name);
  const kek: KeyEncryptionKey = {
    provider: LOCAL_PROVIDER,
    keyId: name,
    async wrap(dek, context, callOptions) {
      throwIfAborted(callOptions?.signal);
      const key = usable(name, "wrap");
      const version = key.versions.find((entry) => entry.version === key.primaryVersion)!;
      const material = Buffer.from(version.material, "base64");
      try {
        const wrapped = wrapDek(
          material,
          wrapAad(aadPrefix(name, version.version), context),
          dek,
          secureFill,
        );
        const out = Buffer.alloc(4 + wrapped.length);
        out.writeUInt32BE(version.version, 0);
        out.set(wrapped, 4);
        record("wrap", name, "ok", version.version);
        return { keyId: name, wrapped: out };
      } finally {
        material.fill(0);
      }
    },
    async unwrap(entry, context, callOptions) {
      throwIfAborted(callOptions?.signal);
      if (entry.keyId !== name)
        throw new EnvelopeError("KEY_ID_MISMATCH", "entry was wrapped by another local key");
      if (entry.wrapped.length < 4) throw new EnvelopeError("MALFORMED", "local wrapped key is too short");
      const versionNumber = Buffer.from(entry.wrapped).readUInt32BE(0);
      const key = usable(name, "unwrap");
      const version = key.versions.find((candidate) => candidate.version === versionNumber);
      if (version === undefined) {
        const missing = `keystore: key "${name}" has no version ${versionNumber}`;
        return fail("unwrap", name, new EnvelopeError("KEY_NOT_FOUND", missing), versionNumber);
      }
      const material = Buffer.from(version.material, "base64");
      let dek: Uint8Array;
      try {
        dek = unwrapDek(
          material,
          wrapAad(aadPrefix(name, versionNumber), context),
          entry.wrapped.subarray(4),
        );
      } catch (error) {
        return fail("unwrap", name, error, versionNumber);
      } finally {
        material.fill(0);
      }
      try {
        // Audit, then release: no DEK leaves without its record.
        record("unwrap", name, "ok", versionNumber);
      } catch (auditError) {
        dek.fill(0);
        throw auditError;
      }
      return dek;
    },
  };
  return Object.freeze(kek);
}
