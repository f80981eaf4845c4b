// What the pull-through decorator needs from the HTTP request it serves without taking it as a
// parameter: the method (HEAD of an uncached blob asks the upstream, it does not download),
// containerd's `?ns=`, and a way to add response headers (X-Berth-Cache). It reads them from
// the server's one request context (events/request-scope.ts), which satisfies this interface.
export interface ProxyRequest {
  method: string;
  ns: string | undefined;
  setHeader(name: string, value: string): void;
}

export interface ProxyScope {
  current(): ProxyRequest | undefined;
}

/** Outside a server (tests, one-shot commands): never inside a request. */
export const NO_REQUEST: ProxyScope = { current: () => undefined };
