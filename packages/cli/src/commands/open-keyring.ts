import { createKeyringFromUris, EnvelopeError, type Keyring } from "@kms-envelope/core";
import type { ParsedOptions } from "../cli.js";
import { cliKeystore } from "../keystore-option.js";
import { keyUris } from "../options.js";
import { createCliRegistry } from "../registry.js";

/** A keyring from `--key` / `KMS_ENVELOPE_KEYS`; `local://` keys come from the CLI's keystore. */
export async function openCliKeyring(values: ParsedOptions, env: NodeJS.ProcessEnv): Promise<Keyring> {
  const uris = keyUris(values.key, env);
  if (uris.length === 0) {
    throw new EnvelopeError("INVALID_ARGUMENT", "no key: pass --key URI or set KMS_ENVELOPE_KEYS");
  }
  const registry = await createCliRegistry();
  return createKeyringFromUris(uris, {
    registry,
    providerOptions: { local: { keystore: cliKeystore(values.keystore, env) } },
  });
}
