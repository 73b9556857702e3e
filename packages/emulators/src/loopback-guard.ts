import net from "node:net";

/**
 * Makes every TCP connection to anything but loopback fail at once, and
 * records it, so no test can reach a real cloud, a metadata service
 * (169.254.169.254, metadata.google.internal), an identity endpoint or
 * anything else by accident. Every socket Node opens — the AWS SDK's HTTP
 * handler, grpc-js, gaxios, undici, the Azure pipeline — goes through
 * `net.Socket#connect`. Unix sockets and pipes are left alone. Call it from a
 * test runner's setup file; it also sets `METADATA_SERVER_DETECTION=none` so
 * Google's auth library does not probe for a metadata server.
 */
export interface LoopbackGuard {
  /** Hosts a connection was refused to, in order. A test run should end with none (tests that try on purpose clear it). */
  readonly refused: string[];
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"]);
/** Kept on the global object: a test runner that reloads modules in one process must not patch twice. */
const STATE = Symbol.for("@kms-envelope/emulators/loopback-guard");
type GlobalWithGuard = typeof globalThis & { [STATE]?: LoopbackGuard };

function targetOf(args: unknown[]): { host?: string; path?: string | null } {
  let first = args[0];
  // Node's own callers pass their normalized [options, callback] pair as one array.
  if (Array.isArray(first)) first = first[0];
  if (typeof first === "object" && first !== null) return first as { host?: string; path?: string | null };
  if (typeof first === "string" && Number.isNaN(Number(first))) return { path: first };
  return { host: typeof args[1] === "string" ? args[1] : "localhost" };
}

export function installLoopbackGuard(): LoopbackGuard {
  const global = globalThis as GlobalWithGuard;
  process.env.METADATA_SERVER_DETECTION = "none";
  if (global[STATE] !== undefined) return global[STATE];
  const state: LoopbackGuard = { refused: [] };
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(this: net.Socket, ...args: unknown[]) {
    const target = targetOf(args);
    // http.Agent passes `path: null` for TCP; only a string path is a Unix socket or pipe.
    if (typeof target.path !== "string" && !LOOPBACK.has(target.host ?? "localhost")) {
      state.refused.push(String(target.host));
      throw new Error(`loopback guard: a test tried to connect to ${String(target.host)}`);
    }
    return (connect as (...a: unknown[]) => net.Socket).apply(this, args);
  } as typeof net.Socket.prototype.connect;
  global[STATE] = state;
  return state;
}
