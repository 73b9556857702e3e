import { defaultKeystorePath, type Keystore, openKeystore } from "@kms-envelope/local";

/** `--keystore`, else `KMS_ENVELOPE_KEYSTORE`, else the default path. */
export function cliKeystore(flag: string | undefined, env: NodeJS.ProcessEnv): Keystore {
  return openKeystore({ path: flag ?? defaultKeystorePath(env) });
}
