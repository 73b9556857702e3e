import type { Capability } from "./acl.js";
import { badRequest, VaultHttpError } from "./transit-error.js";
import { TRANSIT_KEY_TYPES, TransitKey, type TransitKeyType } from "./transit-key.js";

/** The keys of one transit mount. */
export type TransitMount = Map<string, TransitKey>;

export interface TransitRoute {
  /** Fault and call-counter name: Encrypt, Decrypt, Rewrap, DataKey, CreateKey, ReadKey, RotateKey, ConfigKey, DeleteKey. */
  readonly operation: string;
  readonly capability: Capability;
  /** Returns the response `data`, or undefined for a 204. */
  readonly handle: (body: Record<string, unknown>) => Record<string, unknown> | undefined;
}

/** framework.GenericNameRegex: word characters, with - . @ inside. */
const NAME = /^\w(?:[\w.@-]*\w)?$/;

function base64Field(body: Record<string, unknown>, field: string): Buffer | undefined {
  const value = body[field];
  if (value === undefined || value === null || value === "") return undefined;
  if (typeof value !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(value) || value.length % 4 !== 0) {
    throw badRequest(`failed to base64-decode ${field}`);
  }
  return Buffer.from(value, "base64");
}

function intField(body: Record<string, unknown>, field: string): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  const number = typeof value === "string" ? Number(value) : value;
  if (typeof number !== "number" || !Number.isInteger(number)) {
    throw badRequest(`error converting input for field "${field}": expected an integer`);
  }
  return number;
}

function boolField(body: Record<string, unknown>, field: string): boolean | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value === "boolean") return value;
  if (value === "true" || value === "false") return value === "true";
  throw badRequest(`error converting input for field "${field}": expected a boolean`);
}

/** Resolves `rest` (the path below the mount) to a transit operation, or throws Vault's 404. */
export function transitRoute(keys: TransitMount, mount: string, method: string, rest: string): TransitRoute {
  const parts = rest.split("/");
  const [first, second, third, fourth] = parts;
  const write = method === "POST" || method === "PUT";
  const keyOf = (name: string) => {
    const key = keys.get(name);
    if (key === undefined) throw badRequest("encryption key not found");
    return key;
  };
  const named = (name: string | undefined): name is string => name !== undefined && NAME.test(name);

  if (first === "keys" && named(second) && third === undefined) {
    if (write) {
      return {
        operation: "CreateKey",
        capability: "update",
        handle: (body) => {
          const type = (body.type ?? "aes256-gcm96") as TransitKeyType;
          if (!TRANSIT_KEY_TYPES.includes(type)) throw badRequest(`unknown key type ${String(body.type)}`);
          if (boolField(body, "convergent_encryption") === true) {
            throw badRequest("the emulator does not implement convergent encryption");
          }
          let key = keys.get(second);
          if (key === undefined) {
            key = new TransitKey(second, type, boolField(body, "derived") ?? false);
            keys.set(second, key);
          }
          return key.describe();
        },
      };
    }
    if (method === "GET") {
      return {
        operation: "ReadKey",
        capability: "read",
        handle: () => {
          // Vault answers a read of a missing key with an empty 404.
          const key = keys.get(second);
          if (key === undefined) throw new VaultHttpError(404, undefined);
          return key.describe();
        },
      };
    }
    if (method === "DELETE") {
      return {
        operation: "DeleteKey",
        capability: "delete",
        handle: () => {
          const key = keys.get(second);
          if (key === undefined)
            throw badRequest(`error deleting policy ${second}: could not delete key; not found`);
          if (!key.deletionAllowed) {
            throw badRequest(`error deleting policy ${second}: deletion is not allowed for this key`);
          }
          keys.delete(second);
          return undefined;
        },
      };
    }
  }
  if (first === "keys" && named(second) && third === "rotate" && fourth === undefined && write) {
    return {
      operation: "RotateKey",
      capability: "update",
      handle: () => {
        const key = keys.get(second);
        if (key === undefined) throw badRequest("key not found");
        key.rotate();
        return key.describe();
      },
    };
  }
  if (first === "keys" && named(second) && third === "config" && fourth === undefined && write) {
    return {
      operation: "ConfigKey",
      capability: "update",
      handle: (body) => {
        const key = keyOf(second);
        key.configure({
          minDecryptionVersion: intField(body, "min_decryption_version"),
          minEncryptionVersion: intField(body, "min_encryption_version"),
          deletionAllowed: boolField(body, "deletion_allowed"),
        });
        return key.describe();
      },
    };
  }
  if (first === "encrypt" && named(second) && third === undefined && write) {
    // Vault's existence check: encrypting under a missing key is a create (an upsert), needing `create`.
    const exists = keys.has(second);
    return {
      operation: "Encrypt",
      capability: exists ? "update" : "create",
      handle: (body) => {
        if (typeof body.plaintext !== "string") throw badRequest("missing plaintext to encrypt");
        const plaintext = base64Field(body, "plaintext") ?? Buffer.alloc(0);
        const context = base64Field(body, "context");
        let key = keys.get(second);
        if (key === undefined) {
          const type = (body.type ?? "aes256-gcm96") as TransitKeyType;
          if (!TRANSIT_KEY_TYPES.includes(type) || type.startsWith("rsa-")) {
            throw badRequest(`unknown key type ${String(body.type)}`);
          }
          key = new TransitKey(second, type, context !== undefined);
          keys.set(second, key);
        }
        const result = key.encrypt(plaintext, {
          ...optional("context", context),
          ...optional("associatedData", base64Field(body, "associated_data")),
          ...optional("keyVersion", intField(body, "key_version")),
        });
        return { ciphertext: result.ciphertext, key_version: result.keyVersion };
      },
    };
  }
  if (first === "decrypt" && named(second) && third === undefined && write) {
    return {
      operation: "Decrypt",
      capability: "update",
      handle: (body) => {
        const ciphertext = typeof body.ciphertext === "string" ? body.ciphertext : "";
        if (ciphertext === "") throw badRequest("missing ciphertext to decrypt");
        const key = keyOf(second);
        const plaintext = key.decrypt(ciphertext, {
          ...optional("context", base64Field(body, "context")),
          ...optional("associatedData", base64Field(body, "associated_data")),
        });
        return { plaintext: plaintext.toString("base64") };
      },
    };
  }
  if (first === "rewrap" && named(second) && third === undefined && write) {
    return {
      operation: "Rewrap",
      capability: "update",
      handle: (body) => {
        const ciphertext = typeof body.ciphertext === "string" ? body.ciphertext : "";
        if (ciphertext === "") throw badRequest("missing ciphertext to decrypt");
        const key = keyOf(second);
        const context = base64Field(body, "context");
        // Like Vault, rewrap takes no associated_data: a ciphertext sealed with some cannot be rewrapped.
        const plaintext = key.decrypt(ciphertext, optional("context", context));
        const result = key.encrypt(plaintext, {
          ...optional("context", context),
          ...optional("keyVersion", intField(body, "key_version")),
        });
        plaintext.fill(0);
        return { ciphertext: result.ciphertext, key_version: result.keyVersion };
      },
    };
  }
  if (first === "datakey" && named(third) && fourth === undefined && write) {
    return {
      operation: "DataKey",
      capability: "update",
      handle: (body) => {
        if (second !== "plaintext" && second !== "wrapped") {
          throw badRequest("Invalid path, must be 'plaintext' or 'wrapped'");
        }
        const key = keyOf(third);
        const bits = intField(body, "bits") ?? 256;
        if (bits !== 128 && bits !== 256 && bits !== 512) throw badRequest("invalid bit length");
        const dataKey = Buffer.from(crypto.getRandomValues(new Uint8Array(bits / 8)));
        const result = key.encrypt(dataKey, {
          ...optional("context", base64Field(body, "context")),
          ...optional("keyVersion", intField(body, "key_version")),
        });
        const data: Record<string, unknown> = {
          ciphertext: result.ciphertext,
          key_version: result.keyVersion,
        };
        if (second === "plaintext") data.plaintext = dataKey.toString("base64");
        dataKey.fill(0);
        return data;
      },
    };
  }
  throw new VaultHttpError(404, `no handler for route "${mount}/${rest}". route entry not found.`);
}

function optional<K extends string, V>(name: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [name]: value }) as { [P in K]?: V };
}
