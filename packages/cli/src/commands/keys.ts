import { EnvelopeError } from "@kms-envelope/core";
import type { KeyInfo } from "@kms-envelope/local";
import type { CliEnvironment, CommandInput } from "../cli-environment.js";
import { COMMON_OPTIONS, flagOption, stringOption } from "../command-options.js";
import { writeStdout } from "../io/stdout.js";
import { cliKeystore, KEY_OPTIONS } from "../key-resolution.js";

export const KEYS_ACTIONS = [
  "create",
  "list",
  "rotate",
  "disable",
  "enable",
  "schedule-deletion",
  "cancel-deletion",
  "audit",
] as const;

export const KEYS_OPTIONS = {
  keystore: KEY_OPTIONS.keystore,
  "waiting-days": {
    type: "string",
    value: "N",
    help: "schedule-deletion only: days before the key is gone (default 30, at least 7)",
  },
  ...COMMON_OPTIONS,
} as const;

function describe(key: KeyInfo): string {
  const deletion = key.deletionDate ? ` deletion ${key.deletionDate}` : "";
  return `${key.uri}\t${key.state}\tv${key.primaryVersion} (${key.versions.length} version${key.versions.length === 1 ? "" : "s"})${deletion}`;
}

export async function runKeys({ values, positionals }: CommandInput, environment: CliEnvironment) {
  const [action, name, extra] = positionals;
  if (action === undefined || !(KEYS_ACTIONS as readonly string[]).includes(action)) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `keys takes ${KEYS_ACTIONS.join("|")}${action ? ` (not "${action}")` : ""}`,
    );
  }
  if (extra !== undefined) throw new EnvelopeError("INVALID_ARGUMENT", `keys ${action} takes one key name`);
  if (values["waiting-days"] !== undefined && action !== "schedule-deletion") {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `keys ${action} does not take --waiting-days (only schedule-deletion does)`,
    );
  }
  if (name !== undefined && action === "list")
    throw new EnvelopeError("INVALID_ARGUMENT", "keys list takes no key name");
  const keystore = cliKeystore(stringOption(values, "keystore"), environment.env);
  const json = flagOption(values, "json");
  const print = (data: unknown, text: string) =>
    writeStdout(json ? `${JSON.stringify(data, null, 2)}\n` : text.length > 0 ? `${text}\n` : "");
  const needName = () => {
    if (name === undefined) throw new EnvelopeError("INVALID_ARGUMENT", `keys ${action} needs a key name`);
    return name;
  };
  switch (action) {
    case "create": {
      const key = keystore.create(needName());
      await print(key, describe(key));
      if (!flagOption(values, "quiet")) environment.log(`created ${key.uri} in ${keystore.path}`);
      return;
    }
    case "list": {
      const keys = keystore.list();
      await print(keys, keys.map(describe).join("\n"));
      return;
    }
    case "rotate":
    case "disable":
    case "enable":
    case "cancel-deletion": {
      const operation = {
        rotate: "rotate",
        disable: "disable",
        enable: "enable",
        "cancel-deletion": "cancelDeletion",
      } as const;
      const key = keystore[operation[action]](needName());
      await print(key, describe(key));
      return;
    }
    case "schedule-deletion": {
      const text = stringOption(values, "waiting-days");
      if (text !== undefined && !/^\d+$/.test(text))
        throw new EnvelopeError("INVALID_ARGUMENT", "--waiting-days takes a whole number of days");
      const key = keystore.scheduleDeletion(
        needName(),
        text === undefined ? {} : { waitingDays: Number(text) },
      );
      await print(key, describe(key));
      return;
    }
    default: {
      const log = keystore.readAudit();
      // Damaged lines (a torn write, an edit) are skipped and named; their text is never printed.
      for (const line of log.damagedLines) environment.log(`audit log line ${line} is damaged; skipped`);
      const records = log.records.filter((record) => name === undefined || record.key === name);
      await print(
        records,
        records
          .map(
            (r) =>
              `${r.time}\t${r.operation}\t${r.key}${r.version ? ` v${r.version}` : ""}\t${r.outcome}${r.code ? ` ${r.code}` : ""}`,
          )
          .join("\n"),
      );
    }
  }
}
