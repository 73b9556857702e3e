import { EnvelopeError, type KeyUriProvider, readOpenOptions } from "@kms-envelope/core";
import { type Keystore, openKeystore } from "./keystore.js";
import { LOCAL_PROVIDER } from "./local-kek.js";

/**
 * `local://<name>`: a key in the local keystore. Options (under the "local"
 * scheme): `keystore`, a file path (what a config file says) or, from code,
 * an open `Keystore`; defaults to `defaultKeystorePath()`.
 */
export const localKeyUriProvider: KeyUriProvider = Object.freeze({
  scheme: "local",
  provider: LOCAL_PROVIDER,
  open(location: string, given: unknown) {
    const name = location.replace(/\/+$/, "");
    if (name.length === 0 || name.includes("/")) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"local://${location}" must name one key: local://<name>`);
    }
    // `keystore` is a path (string) or a Keystore (object); anything else is refused by kind.
    const keystore = (given as { keystore?: unknown } | undefined)?.keystore;
    const { keystore: path } = readOpenOptions(
      "local",
      given,
      typeof keystore === "object" && keystore !== null ? { keystore: "object" } : { keystore: "string" },
    );
    const opened: Keystore =
      typeof path === "object" ? (path as Keystore) : openKeystore({ path: path as string | undefined });
    return opened.kek(name);
  },
  uriFor: (keyId: string) => `local://${keyId}`,
});
