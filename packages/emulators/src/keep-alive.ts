/**
 * How long an emulator keeps an idle keep-alive connection open. Node's
 * default is 5 s; an SDK's agent reuses its sockets with no idle limit of
 * its own, so a request sent just as the server closes one fails with
 * ECONNRESET, a race that pauses of a few seconds between two test steps on
 * a loaded machine make likely. Kept under Node's 60 s `headersTimeout`.
 */
export const IDLE_CONNECTION_MS = 30_000;

/** Sets the idle keep-alive time of an emulator's HTTP or HTTPS server. */
export function holdIdleConnections<S extends { keepAliveTimeout: number }>(server: S): S {
  server.keepAliveTimeout = IDLE_CONNECTION_MS;
  return server;
}
