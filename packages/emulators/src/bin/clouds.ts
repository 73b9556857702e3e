import { randomBytes } from "node:crypto";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { createStateFile } from "../state-file.js";
import type { VaultKeysSnapshot } from "../vault/index.js";
import type { Seeds } from "./seeds.js";

/** One emulator the command runs, as the printed profile needs it. */
export interface RunningCloud {
  /** The command-line name: aws, gcp, azure. */
  readonly name: string;
  /** The key URI scheme its keys use. */
  readonly scheme: string;
  readonly port: number;
  /** Where it listens, for the log line. */
  readonly endpoint: string;
  /** Key URIs of the seeded keys. */
  readonly keys: readonly string[];
  /** The config file's provider settings for its scheme. */
  readonly settings: Readonly<Record<string, string | boolean>>;
  close(): Promise<void>;
}

export interface CloudStartOptions {
  readonly stateDir: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly seeds: Seeds;
}

export type CloudStarter = (options: CloudStartOptions) => Promise<RunningCloud>;

/**
 * Each cloud's starter, loaded on demand so only the chosen clouds' SDKs are
 * imported. Another emulator (Vault transit, say) joins by adding an entry
 * here and its port to DEFAULT_PORTS.
 */
export const CLOUDS: Readonly<Record<string, CloudStarter>> = {
  aws: startAws,
  gcp: startGcp,
  azure: startAzure,
  vault: startVault,
};

/** What runs when no emulator is named: all of them. */
export const DEFAULT_CLOUDS: readonly string[] = ["aws", "gcp", "azure", "vault"];

export const DEFAULT_PORTS: Readonly<Record<string, number>> = {
  aws: 7701,
  gcp: 7702,
  azure: 7703,
  vault: 7704,
};

async function startAws({ stateDir, port, seeds }: CloudStartOptions): Promise<RunningCloud> {
  const { startAwsKmsEmulator } = await import("../aws/index.js");
  const emulator = await startAwsKmsEmulator({
    port,
    stateFile: join(stateDir, "aws-kms.json"),
    acceptAnyCredentials: true,
  });
  const keys = (seeds.aws ?? []).map((seed) => {
    const region = seed.region ?? emulator.region;
    let arn: string;
    try {
      arn = String(emulator.describeKey(seed.alias, region).Arn);
    } catch {
      arn = emulator.createKey({ alias: seed.alias, region, keySpec: seed.keySpec }).arn;
    }
    return `aws-kms://${arn}`;
  });
  return {
    name: "aws",
    scheme: "aws-kms",
    port: Number(new URL(emulator.endpoint).port),
    endpoint: emulator.endpoint,
    keys,
    settings: { endpoint: emulator.endpoint, insecureTestCredentials: true },
    close: () => emulator.close(),
  };
}

async function startGcp({ stateDir, port, seeds }: CloudStartOptions): Promise<RunningCloud> {
  const { startGcpKmsEmulator, KmsStatusError } = await import("../gcp/index.js");
  const emulator = await startGcpKmsEmulator({ port, stateFile: join(stateDir, "gcp-kms.json") });
  const keys = (seeds.gcp ?? []).map((seed) => {
    const location = seed.location ?? "global";
    const name = `projects/${seed.project}/locations/${location}/keyRings/${seed.keyRing}/cryptoKeys/${seed.id}`;
    try {
      emulator.createKey({ project: seed.project, location, keyRing: seed.keyRing, id: seed.id });
    } catch (error) {
      if (!(error instanceof KmsStatusError && error.status === "ALREADY_EXISTS")) throw error;
    }
    return `gcp-kms://${name}`;
  });
  const endpoint = `http://127.0.0.1:${emulator.port}`;
  return {
    name: "gcp",
    scheme: "gcp-kms",
    port: emulator.port,
    endpoint,
    keys,
    settings: { endpoint, insecureTestCredentials: true },
    close: () => emulator.close(),
  };
}

async function startAzure({ stateDir, port, seeds }: CloudStartOptions): Promise<RunningCloud> {
  const { startAzureKeyVaultEmulator, createEmulatorCertificate } = await import("../azure/index.js");
  // The certificate lives in the state directory, so a printed CA file stays valid across restarts.
  const certFile = join(stateDir, "azure-ca.pem");
  const keyFile = join(stateDir, "azure-tls-key.pem");
  if (!existsSync(certFile) || !existsSync(keyFile)) {
    const pems = await createEmulatorCertificate({ days: 365 });
    writeFileSync(keyFile, pems.private, { mode: 0o600 });
    writeFileSync(certFile, pems.cert);
  }
  const emulator = await startAzureKeyVaultEmulator({
    port,
    tls: { key: readFileSync(keyFile, "utf8"), cert: readFileSync(certFile, "utf8") },
    stateFile: join(stateDir, "azure-keyvault.json"),
    acceptAnyToken: true,
  });
  const client = emulator.client();
  const keys: string[] = [];
  for (const seed of seeds.azure ?? []) {
    const exists = await client.getKey(seed.name).then(
      () => true,
      (error: { statusCode?: number }) => {
        if (error.statusCode === 404) return false;
        throw error;
      },
    );
    if (!exists) await emulator.createKey(seed.name, { kty: seed.kty ?? "RSA" });
    keys.push(`azure-keyvault://${new URL(emulator.vaultUrl).host}/keys/${seed.name}`);
  }
  return {
    name: "azure",
    scheme: "azure-keyvault",
    port: Number(new URL(emulator.vaultUrl).port),
    endpoint: emulator.vaultUrl,
    keys,
    settings: { caFile: certFile, insecureTestCredentials: true },
    close: () => emulator.close(),
  };
}

async function startVault({ stateDir, port, seeds }: CloudStartOptions): Promise<RunningCloud> {
  const { startVaultTransitEmulator } = await import("../vault/index.js");
  // Like `vault server -dev`, one root token; kept in the state directory (0600) so clients read it from there.
  const tokenFile = join(stateDir, "vault-token");
  if (!existsSync(tokenFile)) {
    writeFileSync(tokenFile, `hvs.${randomBytes(18).toString("base64url")}\n`, { mode: 0o600 });
  }
  const state = createStateFile<VaultKeysSnapshot>(join(stateDir, "vault-transit.json"), "vault-transit");
  let save = () => {};
  const emulator = await startVaultTransitEmulator({
    port,
    rootToken: readFileSync(tokenFile, "utf8").trim(),
    keys: state.load(),
    onKeysChanged: () => save(),
  });
  save = () => state.save(emulator.snapshotKeys());
  const keys = (seeds.vault ?? []).map((seed) => {
    const mount = seed.mount ?? "transit";
    const derived = seed.derived === "true";
    emulator.createKey(seed.name, { mount, type: seed.type, derived });
    const query = [
      ...(derived ? ["derived=true"] : []),
      ...(seed.type === undefined ? [] : [`type=${seed.type}`]),
    ];
    const suffix = query.length === 0 ? "" : `?${query.join("&")}`;
    return `vault-transit://${emulator.hostPort}/${mount}/keys/${seed.name}${suffix}`;
  });
  save();
  return {
    name: "vault",
    scheme: "vault-transit",
    port: Number(new URL(emulator.address).port),
    endpoint: emulator.address,
    keys,
    settings: { tokenFile, tls: false },
    close: () => emulator.close(),
  };
}
