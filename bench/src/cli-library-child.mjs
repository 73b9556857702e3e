/**
 * The library side of the CLI comparison: the same file in and file out,
 * the same keystore key, through core's stream API with no CLI around it.
 *   node cli-library-child.mjs encrypt|decrypt KEYSTORE IN OUT
 */
import { createReadStream, createWriteStream } from "node:fs";
import { pipeline } from "node:stream/promises";
import { createKeyring, decryptStream, encryptStream } from "@kms-envelope/core";
import { openKeystore } from "@kms-envelope/local";

const [mode, keystorePath, input, output] = process.argv.slice(2);
const keyring = createKeyring({ primary: openKeystore({ path: keystorePath }).kek("bench") });
const stage = mode === "encrypt" ? encryptStream({ keyring }) : decryptStream({ keyring });
await pipeline(createReadStream(input, { highWaterMark: 1024 * 1024 }), stage, createWriteStream(output));
