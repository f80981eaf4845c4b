// What the registry believes of the forwarding headers a request carries: the client address
// (for allow-lists, failed-login limits, logs) only through the proxies the operator lists in
// `http.trustedproxies`; the scheme and host the client used (for the URLs the registry hands
// back) from those proxies too, or, when none are listed, from a proxy on this host (loopback),
// so the usual nginx-on-the-same-host setup keeps working without configuration.
import { AddressList, clientAddressBehind, forwardedHops, normalizeAddress, type ForwardedHeader } from './forwarded.js';

type Headers = Record<string, string | string[] | undefined>;

const LOOPBACK = new AddressList(['127.0.0.0/8', '::1/128']);

export class ProxyTrust {
  readonly #trusted: AddressList;
  readonly #header: ForwardedHeader;

  constructor(trusted: readonly string[], header: ForwardedHeader = 'x-forwarded-for') {
    this.#trusted = new AddressList(trusted);
    this.#header = header;
  }

  get configured(): boolean {
    return this.#trusted.size > 0;
  }

  /** The client's address: the peer, or the first untrusted hop from the right of the configured header. */
  clientAddress(peer: string | undefined, headers: Headers): string {
    if (!this.configured) return normalizeAddress(peer ?? '');
    return clientAddressBehind(peer, forwardedHops(this.#header, headers[this.#header]), (a) => this.#trusted.contains(a));
  }

  /** Whether this peer's X-Forwarded-Proto/-Host and Forwarded proto/host are believed. */
  vouchesForUrl(peer: string | undefined): boolean {
    return (this.configured ? this.#trusted : LOOPBACK).contains(peer ?? '');
  }
}
