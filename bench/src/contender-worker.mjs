/**
 * One contender in its own worker thread: its own heap and its own JIT, so
 * no contender pays for another's garbage or runs code the other's types
 * made polymorphic (measured: interleaving the AWS Encryption SDK in the same
 * heap made raw AES-GCM look 35% faster and kms-envelope 20% slower, because
 * each one's collections ran during the other's turns). The main thread asks
 * for samples one at a time, so only one contender runs at any moment.
 */
import { randomBytes } from "node:crypto";
import { parentPort, workerData } from "node:worker_threads";
import { contenderFactories } from "./contenders.mjs";
import { opsPerSecond } from "./measure.mjs";

const contender = contenderFactories[workerData.factory](...workerData.args);
const plaintext = randomBytes(workerData.bytes);
const envelope = await contender.encrypt(plaintext);
// Every contender must decrypt its own output back to the plaintext before it is timed.
const back = await contender.decrypt(envelope);
if (!Buffer.from(back).equals(plaintext)) throw new Error(`${contender.name} did not round-trip`);

const operations = {
  encrypt: () => contender.encrypt(plaintext),
  decrypt: () => contender.decrypt(envelope),
};

parentPort.on("message", async ({ direction, minMs, minOps }) => {
  const value = await opsPerSecond(operations[direction], { minMs, minOps });
  parentPort.postMessage({ value });
});
parentPort.postMessage({ ready: contender.name });
