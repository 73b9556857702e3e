import { Socket } from "node:net";

/**
 * Setup file: any TCP connection from a test to an address other than
 * loopback fails at once, so no test can reach real AWS, IMDS
 * (169.254.169.254) or anything else by accident. Unix sockets and pipes are
 * left alone.
 */
const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);
const connect = Socket.prototype.connect;

Socket.prototype.connect = function guardedConnect(this: Socket, ...args: unknown[]) {
  // net.connect() passes its normalized arguments as one array: [options, callback].
  const [first, second] = Array.isArray(args[0]) ? (args[0] as unknown[]) : args;
  let host: string | undefined;
  let path = false;
  if (typeof first === "object" && first !== null) {
    const options = first as { host?: string; path?: string };
    host = options.host;
    path = typeof options.path === "string";
  } else if (typeof first === "string" && !/^\d+$/.test(first)) {
    path = true;
  } else if (typeof second === "string") {
    host = second;
  }
  if (!path && !LOOPBACK.has(host ?? "localhost")) {
    throw new Error(`test tried to connect to ${host}: only loopback is allowed`);
  }
  return (connect as (...a: unknown[]) => Socket).apply(this, args);
} as typeof Socket.prototype.connect;
