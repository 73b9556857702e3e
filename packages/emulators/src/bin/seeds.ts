import { readFileSync } from "node:fs";
import type { TransitKeyType } from "../vault/transit-key.js";

/** Keys to create at start when missing (by alias, name or resource name, so a restart creates nothing twice). */
export interface Seeds {
  aws?: {
    alias: string;
    region?: string;
    keySpec?: "SYMMETRIC_DEFAULT" | "RSA_2048" | "RSA_3072" | "RSA_4096";
  }[];
  gcp?: { project: string; location?: string; keyRing: string; id: string }[];
  azure?: { name: string; kty?: "RSA" | "RSA-HSM" | "oct" | "oct-HSM" }[];
  /** Vault transit keys: `mount` defaults to "transit", `type` to aes256-gcm96, `derived` to "false". */
  vault?: { name: string; mount?: string; type?: TransitKeyType; derived?: "true" | "false" }[];
}

/** One demo key per cloud: what the README's walk-through uses. */
export const DEFAULT_SEEDS: Seeds = {
  aws: [{ alias: "alias/demo" }],
  gcp: [{ project: "demo", location: "global", keyRing: "demo", id: "demo" }],
  azure: [{ name: "demo" }],
  vault: [{ name: "demo", derived: "true" }],
};

const FIELDS: Record<keyof Seeds, readonly string[]> = {
  aws: ["alias", "region", "keySpec"],
  gcp: ["project", "location", "keyRing", "id"],
  azure: ["name", "kty"],
  vault: ["name", "mount", "type", "derived"],
};
const REQUIRED: Record<keyof Seeds, readonly string[]> = {
  aws: ["alias"],
  gcp: ["project", "keyRing", "id"],
  azure: ["name"],
  vault: ["name"],
};

/** Reads and checks a seeds file (JSON): unknown clouds and fields are errors, not silently skipped. */
export function readSeeds(path: string): Seeds {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new Error(`--seed ${path}: not readable JSON (${(error as Error).message})`);
  }
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) {
    throw new Error(`--seed ${path}: expected an object with "aws", "gcp", "azure" and/or "vault" lists`);
  }
  for (const [cloud, list] of Object.entries(parsed)) {
    const fields = FIELDS[cloud as keyof Seeds];
    if (fields === undefined)
      throw new Error(`--seed ${path}: unknown cloud "${cloud}" (aws, gcp, azure, vault)`);
    if (!Array.isArray(list)) throw new Error(`--seed ${path}: "${cloud}" must be a list`);
    list.forEach((entry: unknown, index) => {
      if (entry === null || typeof entry !== "object")
        throw new Error(`--seed ${path}: ${cloud}[${index}] must be an object`);
      for (const [name, value] of Object.entries(entry)) {
        if (!fields.includes(name)) {
          throw new Error(
            `--seed ${path}: ${cloud}[${index}] has unknown field "${name}" (${fields.join(", ")})`,
          );
        }
        if (typeof value !== "string")
          throw new Error(`--seed ${path}: ${cloud}[${index}].${name} must be a string`);
      }
      const derived = (entry as { derived?: unknown }).derived;
      if (cloud === "vault" && derived !== undefined && derived !== "true" && derived !== "false") {
        throw new Error(`--seed ${path}: vault[${index}].derived must be "true" or "false"`);
      }
      for (const name of REQUIRED[cloud as keyof Seeds]) {
        if (!(name in entry)) throw new Error(`--seed ${path}: ${cloud}[${index}] needs "${name}"`);
      }
    });
  }
  return parsed as Seeds;
}
