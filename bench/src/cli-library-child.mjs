/**
 * The library side of the CLI comparison: the same file in and file out,
 * the same keystore key, through core's stream API with no CLI around it.
 *   node cli-library-child.mjs encrypt|decrypt KEYSTORE IN OUT [fsync]
 * With `fsync`, the output is made durable the way the CLI makes its own
 * (fsync the file, rename it into place, fsync the directory), so that cost
 * is on both sides of the comparison.
 */
import { closeSync, createReadStream, createWriteStream, fsyncSync, openSync, renameSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { pipeline } from "node:stream/promises";
import { createKeyring, decryptStream, encryptStream } from "@kms-envelope/core";
import { openKeystore } from "@kms-envelope/local";

const [mode, keystorePath, input, output, durability] = process.argv.slice(2);
const keyring = createKeyring({ primary: openKeystore({ path: keystorePath }).kek("bench") });
const stage = mode === "encrypt" ? encryptStream({ keyring }) : decryptStream({ keyring });
const fsync = durability === "fsync";
const written = fsync ? `${output}.tmp` : output;
await pipeline(createReadStream(input, { highWaterMark: 1024 * 1024 }), stage, createWriteStream(written));
if (fsync) {
  // fsync through a second descriptor flushes the same file's data.
  const handle = await open(written, "r+");
  await handle.sync();
  await handle.close();
  renameSync(written, output);
  const directory = openSync(dirname(output), "r");
  fsyncSync(directory);
  closeSync(directory);
}
