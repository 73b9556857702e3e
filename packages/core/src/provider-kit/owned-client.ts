import { invalid } from "../validate.js";
import { createPromiseCache } from "./promise-cache.js";

export interface OwnedClient<C> {
  /** The injected client, else the one this KEK created on first use (a failed creation is retried next time). */
  get(): Promise<C>;
  /** Closes the client this KEK created, if any (the next `get` creates another); an injected one stays open. */
  close(): Promise<void>;
}

/**
 * A KEK's SDK client: the caller's, which the caller keeps owning, or one
 * the KEK creates when first needed and is the only one to close, so
 * `close()` never shuts a client the application still uses.
 */
export function createOwnedClient<C>(
  injected: C | undefined,
  create: () => C | Promise<C>,
  close: (client: C) => void | Promise<void>,
): OwnedClient<C> {
  if (typeof create !== "function") invalid("createOwnedClient", "create must be a function");
  if (typeof close !== "function") invalid("createOwnedClient", "close must be a function");
  const created = createPromiseCache(async () => create());
  return {
    get: () => (injected === undefined ? created.get(undefined) : Promise.resolve(injected)),
    async close() {
      const own = created.peek(undefined);
      created.clear();
      if (own !== undefined) await close(own);
    },
  };
}
