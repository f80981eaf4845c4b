// The one context of a request, for code that serves it without taking it as a parameter: the
// HTTP layer runs each registry handler inside `scope.run(context, ...)`, once per request; the
// listener decorator reads `scope.current()` when it reports an event, and the pull-through
// cache reads the method and `?ns=` and adds its response headers through it. One scope per
// server instance (not a module-level store), so two servers in one process never mix.
import { AsyncLocalStorage } from 'node:async_hooks';

/** What an event reports about the request that caused it. */
export interface RequestInfo {
  id: string;
  /** Client address, host:port. */
  addr: string;
  /** The Host header the client used. */
  host: string;
  /** http or https, as the client reached the registry. */
  scheme: string;
  method: string;
  useragent: string;
  /** Request path and query. */
  url: string;
  /** The authenticated user, once the auth feature sets it. */
  user?: string;
}

export interface RequestContext extends RequestInfo {
  /** containerd's `?ns=` (the registry a pulled name belongs to), if given. */
  ns: string | undefined;
  /** Adds a header to the response (the pull-through cache's X-Berth-Cache). */
  setHeader(name: string, value: string): void;
}

export class RequestScope {
  readonly #storage = new AsyncLocalStorage<RequestContext>();

  run<T>(context: RequestContext, fn: () => Promise<T>): Promise<T> {
    return this.#storage.run(context, fn);
  }

  current(): RequestContext | undefined {
    return this.#storage.getStore();
  }
}
