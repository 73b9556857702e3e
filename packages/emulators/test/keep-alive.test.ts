import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import { afterAll, beforeAll, expect, it } from "vitest";
import { type AwsKmsEmulator, startAwsKmsEmulator } from "../src/aws/index.js";
import { IDLE_CONNECTION_MS } from "../src/keep-alive.js";
import { startVaultTransitEmulator, type VaultTransitEmulator } from "../src/vault/index.js";

let aws: AwsKmsEmulator;
let vault: VaultTransitEmulator;
beforeAll(async () => {
  [aws, vault] = await Promise.all([startAwsKmsEmulator(), startVaultTransitEmulator()]);
});
afterAll(() => Promise.all([aws.close(), vault.close()]));

/** One GET over `agent`: its status, and whether it went out on a socket an earlier request used. */
function get(agent: Agent, url: string): Promise<{ status: number; reused: boolean }> {
  return new Promise((resolve, reject) => {
    const sent = request(url, { agent }, (response) => {
      response.resume();
      response.on("end", () => resolve({ status: response.statusCode ?? 0, reused: sent.reusedSocket }));
    });
    sent.on("error", reject).end();
  });
}

// Node's default keepAliveTimeout (5 s) closes an idle socket while an SDK agent may be sending
// on it (ECONNRESET); the emulators keep idle connections open for IDLE_CONNECTION_MS instead.
it("an idle keep-alive connection is still open after Node's default 5 s: the next request reuses it", async () => {
  expect(IDLE_CONNECTION_MS).toBeGreaterThan(10_000);
  const agents = [
    new Agent({ keepAlive: true, maxSockets: 1 }),
    new Agent({ keepAlive: true, maxSockets: 1 }),
  ];
  const urls = [`${aws.endpoint}/`, `${vault.address}/v1/sys/health`];
  const first = await Promise.all(urls.map((url, index) => get(agents[index]!, url)));
  expect(first.map((answer) => answer.reused)).toEqual([false, false]);
  await sleep(6_000);
  const second = await Promise.all(urls.map((url, index) => get(agents[index]!, url)));
  expect(second.map((answer) => answer.reused)).toEqual([true, true]);
  for (const agent of agents) agent.destroy();
});
