import net from "node:net";
import { afterAll, expect } from "vitest";

/**
 * Every socket any test opens (grpc-js, gaxios, undici, google-auth-library)
 * goes through net.Socket#connect. Anything but loopback (the metadata server
 * at 169.254.169.254 or metadata.google.internal, googleapis.com, …) is
 * refused and recorded, and each test file fails if it saw one.
 */
process.env.METADATA_SERVER_DETECTION = "none";
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);
export const refused: string[] = [];
const connect = net.Socket.prototype.connect;

function targetOf(args: unknown[]): { host?: string; path?: string } {
  let first = args[0];
  // Node's own callers pass their normalized [options, callback] pair.
  if (Array.isArray(first)) first = first[0];
  if (typeof first === "object" && first !== null) return first as { host?: string; path?: string };
  if (typeof first === "string" && Number.isNaN(Number(first))) return { path: first };
  return { host: typeof args[1] === "string" ? args[1] : "localhost" };
}

net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
  const target = targetOf(args);
  if (target.path === undefined && !LOOPBACK.has(target.host ?? "localhost")) {
    refused.push(String(target.host));
    throw new Error(`network guard: a test tried to reach ${String(target.host)}`);
  }
  return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
} as typeof net.Socket.prototype.connect;

afterAll(() => {
  expect(refused, "connections to non-loopback addresses").toEqual([]);
});
