import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { CLOUDS, DEFAULT_CLOUDS, DEFAULT_PORTS, type RunningCloud } from "./clouds.js";
import { DEFAULT_SEEDS, readSeeds, type Seeds } from "./seeds.js";

export interface RunEmulatorsOptions {
  /** Which emulators (aws, gcp, azure, vault); all of them when empty. */
  clouds: readonly string[];
  /** Where keys, the TLS certificate, the ports and the printed config are kept. */
  stateDir: string;
  /** Ports per cloud (0: a free one); else the ports of the last run in this state directory, else the defaults. */
  ports?: Readonly<Record<string, number>>;
  /** A seeds file (JSON); one demo key per cloud when absent. */
  seedFile?: string | undefined;
}

export interface RunningEmulators {
  readonly clouds: readonly RunningCloud[];
  /** A ready kms-envelope config file (YAML), also written to `<stateDir>/kms-envelope.yaml`. */
  readonly config: string;
  readonly configFile: string;
  close(): Promise<void>;
}

/** Starts the chosen emulators on loopback with persisted state, seeds keys, writes the config. */
export async function runEmulators(options: RunEmulatorsOptions): Promise<RunningEmulators> {
  const names = options.clouds.length === 0 ? [...DEFAULT_CLOUDS] : [...new Set(options.clouds)];
  for (const name of names) {
    if (!Object.hasOwn(CLOUDS, name)) {
      throw new Error(`unknown emulator "${name}" (choose from ${Object.keys(CLOUDS).join(", ")})`);
    }
  }
  const stateDir = resolve(options.stateDir);
  mkdirSync(stateDir, { recursive: true, mode: 0o700 });
  const portsFile = join(stateDir, "ports.json");
  // Key ids carry the port (Key Vault kids), so a state directory keeps its ports.
  const saved = existsSync(portsFile)
    ? (JSON.parse(readFileSync(portsFile, "utf8")) as Record<string, number>)
    : {};
  const seeds: Seeds = options.seedFile === undefined ? DEFAULT_SEEDS : readSeeds(options.seedFile);
  const running: RunningCloud[] = [];
  try {
    for (const name of names) {
      const port = options.ports?.[name] ?? saved[name] ?? DEFAULT_PORTS[name] ?? 0;
      running.push(await CLOUDS[name]!({ stateDir, port, seeds }));
    }
  } catch (error) {
    await Promise.allSettled(running.map((cloud) => cloud.close()));
    throw error;
  }
  const ports = { ...saved, ...Object.fromEntries(running.map((cloud) => [cloud.name, cloud.port])) };
  writeFileSync(portsFile, `${JSON.stringify(ports, null, 2)}\n`);
  const config = renderConfig(running);
  const configFile = join(stateDir, "kms-envelope.yaml");
  writeFileSync(configFile, config);
  return {
    clouds: running,
    config,
    configFile,
    close: async () => {
      await Promise.allSettled(running.map((cloud) => cloud.close()));
    },
  };
}

/**
 * A kms-envelope config file for the running emulators: a profile per cloud
 * (its keys alone) and, with more than one cloud, `all` (every cloud's keys
 * wrap; the default). Strings are JSON-quoted, which YAML reads as is.
 */
export function renderConfig(clouds: readonly RunningCloud[]): string {
  const q = JSON.stringify;
  const lines = ["# Written by kms-envelope-emulators for its loopback emulators (development only)."];
  const withKeys = clouds.filter((cloud) => cloud.keys.length > 0);
  const profile = (name: string, members: readonly RunningCloud[]) => {
    lines.push(`  ${name}:`, "    encrypt:");
    for (const cloud of members) for (const key of cloud.keys) lines.push(`      - ${q(key)}`);
    lines.push("    providers:");
    for (const cloud of members) {
      lines.push(`      ${cloud.scheme}:`);
      for (const [setting, value] of Object.entries(cloud.settings))
        lines.push(`        ${setting}: ${q(value)}`);
    }
  };
  if (withKeys.length > 1) lines.push("default: all");
  lines.push("profiles:");
  if (withKeys.length > 1) profile("all", withKeys);
  for (const cloud of withKeys) profile(cloud.name, [cloud]);
  return `${lines.join("\n")}\n`;
}
