#!/usr/bin/env node
// A small program on @kms-envelope/config: which keys it uses is the config
// file's business (KMS_ENVELOPE_CONFIG, or kms-envelope.yaml found upward).
//
//   node envelope.mjs encrypt [PROFILE] < plaintext > envelope
//   node envelope.mjs decrypt [PROFILE] < envelope > plaintext
import { readFileSync } from "node:fs";
import { awsKmsUriProvider } from "@kms-envelope/aws-kms";
import { azureKeyVaultUriProvider } from "@kms-envelope/azure-keyvault";
import { keyringFromConfig, loadConfig } from "@kms-envelope/config";
import { createKeyUriRegistry, decrypt, encrypt, inspect } from "@kms-envelope/core";
import { gcpKmsUriProvider } from "@kms-envelope/gcp-kms";
import { localKeyUriProvider } from "@kms-envelope/local";
import { vaultTransitUriProvider } from "@kms-envelope/vault-transit";

const [command, profile] = process.argv.slice(2);
if (command !== "encrypt" && command !== "decrypt") {
  process.stderr.write("usage: envelope.mjs encrypt|decrypt [PROFILE] < input > output\n");
  process.exit(2);
}
const registry = createKeyUriRegistry([
  awsKmsUriProvider,
  gcpKmsUriProvider,
  azureKeyVaultUriProvider,
  localKeyUriProvider,
  vaultTransitUriProvider,
]);
const config = await loadConfig();
if (config === undefined) throw new Error("no config file: set KMS_ENVELOPE_CONFIG");
const configured = await keyringFromConfig({ config, registry, profile });
const input = readFileSync(0);
try {
  if (command === "encrypt") {
    const envelope = await encrypt(input, { keyring: configured.keyring, context: configured.contextFor() });
    process.stdout.write(envelope);
    const keys = inspect(envelope).wrappedKeys.map((entry) => `${entry.provider} ${entry.keyId}`);
    process.stderr.write(
      `encrypted with profile ${configured.description.profile}, wrapped for:\n  ${keys.join("\n  ")}\n`,
    );
  } else {
    configured.checkContext(inspect(input).context);
    const { plaintext, unwrappedWith } = await decrypt(input, { keyring: configured.keyring });
    process.stdout.write(plaintext);
    process.stderr.write(
      `decrypted with profile ${configured.description.profile}: ${unwrappedWith.provider} ${unwrappedWith.keyId}\n`,
    );
  }
} finally {
  // gRPC channels and sockets would keep the process alive.
  await Promise.all(configured.keyring.allowed.map((kek) => kek.close?.()));
}
