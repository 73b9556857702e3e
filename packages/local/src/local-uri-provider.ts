import { EnvelopeError, type KeyUriProvider } from "@kms-envelope/core";
import { type Keystore, openKeystore } from "./keystore.js";
import { LOCAL_PROVIDER } from "./local-kek.js";

/**
 * `local://<name>`: a key in the local keystore. Options (under the "local"
 * scheme): `keystore`, an open `Keystore` or a file path; defaults to
 * `defaultKeystorePath()`.
 */
export const localKeyUriProvider: KeyUriProvider = Object.freeze({
  scheme: "local",
  provider: LOCAL_PROVIDER,
  open(location: string, options: Readonly<Record<string, unknown>>) {
    const name = location.replace(/\/+$/, "");
    if (name.length === 0 || name.includes("/")) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"local://${location}" must name one key: local://<name>`);
    }
    const given = options.keystore;
    const keystore: Keystore =
      typeof given === "object" && given !== null
        ? (given as Keystore)
        : openKeystore({ path: typeof given === "string" ? given : undefined });
    return keystore.kek(name);
  },
  uriFor: (keyId: string) => `local://${keyId}`,
});
