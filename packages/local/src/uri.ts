import { EnvelopeError, type KeyUriProvider, type OptionSpecFor, readOpenOptions } from "@kms-envelope/core";
import { type Keystore, openKeystore } from "./keystore.js";
import { LOCAL_PROVIDER } from "./local-kek.js";

/** The registry's `local` options. */
export interface LocalUriOptions {
  /** The keystore file (what a config file says) or, from code, an open `Keystore`. Default: `defaultKeystorePath()`. */
  keystore?: string | Keystore | undefined;
}

const OPTIONS: OptionSpecFor<LocalUriOptions> = { keystore: { anyOf: ["string", "object"] } };

/** `local://<name>`: a key in the local keystore. */
export const localKeyUriProvider: KeyUriProvider = Object.freeze({
  scheme: "local",
  provider: LOCAL_PROVIDER,
  open(location: string, given: unknown) {
    const name = location.replace(/\/+$/, "");
    if (name.length === 0 || name.includes("/")) {
      throw new EnvelopeError("INVALID_ARGUMENT", `"local://${location}" must name one key: local://<name>`);
    }
    const { keystore } = readOpenOptions<LocalUriOptions>("local", given, OPTIONS);
    if (typeof keystore === "object" && typeof keystore.kek !== "function") {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        'local provider option "keystore" must be a path or a Keystore',
      );
    }
    const opened = typeof keystore === "object" ? keystore : openKeystore({ path: keystore });
    return opened.kek(name);
  },
  uriFor: (keyId: string) => `local://${keyId}`,
});
