import { type LoadedConfig, loadConfig, type ProfileConfig, selectProfile } from "@kms-envelope/config";
import { EnvelopeError, parseKeyUri } from "@kms-envelope/core";
import type { CliEnvironment, CommandInput } from "../cli-environment.js";
import { COMMON_OPTIONS, flagOption, stringOption } from "../command-options.js";
import { writeStdout } from "../io/stdout.js";
import { KEY_OPTIONS } from "../key-resolution.js";
import { CLOUD_PROVIDER_PACKAGES, createCliRegistry } from "../providers.js";

export const CONFIG_OPTIONS = {
  profile: KEY_OPTIONS.profile,
  config: KEY_OPTIONS.config,
  path: { type: "string", value: "FILE", help: "show: the profile the path rules pick for FILE" },
  ...COMMON_OPTIONS,
} as const;

/** Setting names whose values are never printed, whatever a future provider adds. */
const SECRET_NAME = /secret|password|token|key$|credentials$/i;

function redact(settings: unknown): unknown {
  if (settings === null || typeof settings !== "object") return settings;
  return Object.fromEntries(
    Object.entries(settings).map(([name, value]) => [
      name,
      SECRET_NAME.test(name) && typeof value === "string" ? "(hidden)" : redact(value),
    ]),
  );
}

async function requireConfig(
  values: CommandInput["values"],
  environment: CliEnvironment,
): Promise<LoadedConfig> {
  const config = await loadConfig({
    path: stringOption(values, "config"),
    cwd: environment.cwd,
    env: environment.env,
  });
  if (config === undefined) {
    throw new EnvelopeError(
      "INVALID_ARGUMENT",
      `no config file: none given (--config, KMS_ENVELOPE_CONFIG), no kms-envelope.yaml/.yml/.json in ${environment.cwd} or above, none in the user config directory`,
    );
  }
  return config;
}

/** Problems no file parser can see: schemes whose provider package is not installed beside the CLI. */
async function missingProviders(profiles: Readonly<Record<string, ProfileConfig>>): Promise<string[]> {
  const schemes = new Map<string, string>();
  for (const [name, profile] of Object.entries(profiles)) {
    for (const uri of [...profile.encrypt, ...profile.decrypt]) {
      const { scheme } = parseKeyUri(uri);
      if (!schemes.has(scheme)) schemes.set(scheme, name);
    }
  }
  const registry = await createCliRegistry(schemes.keys());
  return [...schemes]
    .filter(([scheme]) => !registry.has(scheme))
    .map(([scheme, profile]) => {
      const pkg = CLOUD_PROVIDER_PACKAGES[scheme];
      return pkg === undefined
        ? `profile "${profile}": unknown key URI scheme "${scheme}://"`
        : `profile "${profile}": "${scheme}://" keys need ${pkg} (npm i -g @kms-envelope/cli ${pkg})`;
    });
}

export async function runConfig({ values, positionals }: CommandInput, environment: CliEnvironment) {
  const [action, extra] = positionals;
  if ((action !== "check" && action !== "show") || extra !== undefined) {
    throw new EnvelopeError("INVALID_ARGUMENT", "config takes check or show");
  }
  const json = flagOption(values, "json");
  if (action === "check") {
    if (values.path !== undefined || values.profile !== undefined) {
      throw new EnvelopeError(
        "INVALID_ARGUMENT",
        "config check checks every profile: it takes no --profile or --path",
      );
    }
    const config = await requireConfig(values, environment);
    const problems = await missingProviders(config.profiles);
    if (problems.length > 0)
      throw new EnvelopeError("PROVIDER_NOT_INSTALLED", `${config.file}: ${problems.join("; ")}`);
    const profiles = Object.keys(config.profiles);
    await writeStdout(
      json
        ? `${JSON.stringify({ ok: true, file: config.file, foundBy: config.foundBy, profiles, default: config.defaultProfile ?? null, rules: config.rules.length }, null, 2)}\n`
        : `${config.file}: OK (found by ${config.foundBy}); profiles: ${profiles.join(", ")}${config.defaultProfile ? `; default: ${config.defaultProfile}` : ""}; ${config.rules.length} path rule${config.rules.length === 1 ? "" : "s"}\n`,
    );
    return;
  }
  const config = await requireConfig(values, environment);
  const selected = selectProfile(config, {
    profile: stringOption(values, "profile"),
    filePath: stringOption(values, "path"),
    cwd: environment.cwd,
    env: environment.env,
  });
  const { profile } = selected;
  const shown = {
    file: config.file,
    foundBy: config.foundBy,
    profile: selected.name,
    chosenBy: selected.chosenBy,
    ...(selected.rule === undefined ? {} : { rule: selected.rule }),
    encrypt: profile.encrypt,
    decrypt: profile.decrypt,
    context: profile.context,
    requireContext: profile.requireContext,
    ...(profile.discovery === undefined ? {} : { discovery: profile.discovery }),
    providers: redact(profile.providers),
  };
  if (json) {
    await writeStdout(`${JSON.stringify(shown, null, 2)}\n`);
    return;
  }
  const list = (items: readonly string[]) => (items.length === 0 ? "(none)" : items.join(", "));
  const why =
    selected.chosenBy === "rule" && selected.rule !== undefined
      ? `path rule ${selected.rule.index + 1} (${selected.rule.pattern})`
      : {
          argument: "--profile",
          env: "KMS_ENVELOPE_PROFILE",
          default: "the file's default",
          rule: "a path rule",
        }[selected.chosenBy];
  await writeStdout(
    [
      `file        ${config.file} (found by ${config.foundBy})`,
      `profile     ${selected.name} (chosen by ${why})`,
      `encrypt     ${list(profile.encrypt)}`,
      `decrypt     ${list(profile.decrypt)}`,
      `context     ${list(Object.entries(profile.context).map(([k, v]) => `${k}=${v}`))}`,
      `require     ${list(profile.requireContext.map((r) => (r.value === undefined ? r.key : `${r.key}=${r.value}`)))}`,
      `discovery   ${profile.discovery === undefined ? "off" : JSON.stringify(profile.discovery)}`,
      `providers   ${JSON.stringify(shown.providers)}`,
    ].join("\n") + "\n",
  );
}
