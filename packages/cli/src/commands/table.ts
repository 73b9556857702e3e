import type { CommandRunner } from "../cli-environment.js";
import type { OptionSpecs } from "../command-options.js";
import { CONFIG_OPTIONS, runConfig } from "./config.js";
import { DECRYPT_OPTIONS, runDecrypt } from "./decrypt.js";
import { ENCRYPT_OPTIONS, runEncrypt } from "./encrypt.js";
import { INSPECT_OPTIONS, runInspect } from "./inspect.js";
import { KEYS_OPTIONS, runKeys } from "./keys.js";
import { REWRAP_OPTIONS, runRewrap } from "./rewrap.js";

export interface CommandEntry {
  readonly usage: string;
  readonly summary: string;
  readonly options: OptionSpecs;
  readonly run: CommandRunner;
}

/** Every command, its usage line and exactly the options it accepts. */
export const COMMANDS: Readonly<Record<string, CommandEntry>> = {
  encrypt: {
    usage: "encrypt [--key URI…] [--context K=V…] [-i IN] [-o OUT | --in-place] [--armor] [--frame-length N]",
    summary: "encrypt a file or stream into an envelope",
    options: ENCRYPT_OPTIONS,
    run: runEncrypt,
  },
  decrypt: {
    usage: "decrypt [--key URI…] [--expect-context K=V…] [-i IN] [-o OUT | --in-place]",
    summary: "decrypt an envelope (binary or armored)",
    options: DECRYPT_OPTIONS,
    run: runDecrypt,
  },
  inspect: {
    usage: "inspect [-i IN] [--json]",
    summary: "print an envelope's header (reads only the header; no KMS call)",
    options: INSPECT_OPTIONS,
    run: runInspect,
  },
  rewrap: {
    usage: "rewrap (--to URI… | --remove URI…) [--key URI…] (-i IN -o OUT | --in-place FILE…)",
    summary: "change which keys wrap the data key; the body is copied untouched",
    options: REWRAP_OPTIONS,
    run: runRewrap,
  },
  keys: {
    usage: "keys create|list|rotate|disable|enable|schedule-deletion|cancel-deletion|audit [NAME]",
    summary: "manage keys in the local keystore",
    options: KEYS_OPTIONS,
    run: runKeys,
  },
  config: {
    usage: "config check|show [--profile P] [--config FILE] [--path FILE]",
    summary: "validate the config file, or show the keys and settings a profile resolves to",
    options: CONFIG_OPTIONS,
    run: runConfig,
  },
};
