// What the pull-through decorator needs from the HTTP request it serves without taking it as a
// parameter: the method (HEAD of an uncached blob asks the upstream, it does not download),
// containerd's `?ns=`, and a way to add response headers (X-Berth-Cache). One per server.
import { AsyncLocalStorage } from 'node:async_hooks';

export interface ProxyRequest {
  method: string;
  ns: string | undefined;
  setHeader(name: string, value: string): void;
}

export class ProxyScope {
  readonly #storage = new AsyncLocalStorage<ProxyRequest>();

  run<T>(request: ProxyRequest, fn: () => Promise<T>): Promise<T> {
    return this.#storage.run(request, fn);
  }

  current(): ProxyRequest | undefined {
    return this.#storage.getStore();
  }
}
