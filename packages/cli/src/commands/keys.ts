import { EnvelopeError } from "@kms-envelope/core";
import type { KeyInfo } from "@kms-envelope/local";
import type { CliEnvironment, ParsedOptions } from "../cli.js";
import { cliKeystore } from "../keystore-option.js";

function describe(key: KeyInfo): string {
  const deletion = key.deletionDate ? ` deletion ${key.deletionDate}` : "";
  return `${key.uri}\t${key.state}\tv${key.primaryVersion} (${key.versions.length} version${key.versions.length === 1 ? "" : "s"})${deletion}`;
}

export async function runKeys(rest: readonly string[], values: ParsedOptions, environment: CliEnvironment) {
  const [action, name, extra] = rest;
  if (extra !== undefined) throw new EnvelopeError("INVALID_ARGUMENT", `keys ${action} takes one key name`);
  const keystore = cliKeystore(values.keystore, environment.env);
  const print = (data: unknown, text: string) =>
    process.stdout.write(values.json ? `${JSON.stringify(data, null, 2)}\n` : `${text}\n`);
  const needName = () => {
    if (name === undefined) throw new EnvelopeError("INVALID_ARGUMENT", `keys ${action} needs a key name`);
    return name;
  };
  switch (action) {
    case "create": {
      const key = keystore.create(needName());
      print(key, describe(key));
      environment.log(`created ${key.uri} in ${keystore.path}`);
      return;
    }
    case "list": {
      const keys = keystore.list();
      print(keys, keys.map(describe).join("\n"));
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
      print(key, describe(key));
      return;
    }
    case "schedule-deletion": {
      const days = values["waiting-days"] === undefined ? undefined : Number(values["waiting-days"]);
      const key = keystore.scheduleDeletion(needName(), days === undefined ? {} : { waitingDays: days });
      print(key, describe(key));
      return;
    }
    case "audit": {
      const log = keystore.readAudit();
      for (const line of log.damagedLines) environment.log(`audit log line ${line} is damaged; skipped`);
      const records = log.records.filter((record) => name === undefined || record.key === name);
      print(
        records,
        records
          .map(
            (r) =>
              `${r.time}\t${r.operation}\t${r.key}${r.version ? ` v${r.version}` : ""}\t${r.outcome}${r.code ? ` ${r.code}` : ""}`,
          )
          .join("\n"),
      );
      return;
    }
    default:
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "keys takes create|list|rotate|disable|enable|schedule-deletion|cancel-deletion|audit",
      );
  }
}
