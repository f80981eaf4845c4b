// What the registry services know about the HTTP request they serve, without taking it as a
// parameter: the HTTP layer runs each handler inside `scope.run(info, ...)`, and the listener
// decorator reads `scope.current()` when it reports an event. One scope per server instance.
import { AsyncLocalStorage } from 'node:async_hooks';

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

export class RequestScope {
  readonly #storage = new AsyncLocalStorage<RequestInfo>();

  run<T>(info: RequestInfo, fn: () => Promise<T>): Promise<T> {
    return this.#storage.run(info, fn);
  }

  current(): RequestInfo | undefined {
    return this.#storage.getStore();
  }
}
