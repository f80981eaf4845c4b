// Who the client is behind reverse proxies. A proxy appends the address it received a request
// from to X-Forwarded-For (nginx's $proxy_add_x_forwarded_for, HAProxy, cloud load balancers)
// or to RFC 7239's Forwarded; whatever stands to the left of that was written by the client and
// proves nothing. So the list is read from the right: past every proxy the operator trusts, the
// first hop that is not one is the client.
import { BlockList, isIP } from 'node:net';

/** CIDRs ("10.0.0.0/8", "::1/128") or single addresses; IPv4-mapped IPv6 compares as IPv4. */
export class AddressList {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: readonly string[]) {
    for (const entry of entries) {
      const [addr = '', bits] = entry.trim().split('/');
      const family = isIP(addr);
      if (family === 0) throw new Error(`not an IP address or CIDR: ${JSON.stringify(entry)}`);
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) this.#list.addAddress(addr, type);
      else this.#list.addSubnet(addr, Number(bits), type);
    }
    this.size = entries.length;
  }

  /** An empty list allows everyone. */
  allows(address: string): boolean {
    return this.size === 0 || this.contains(address);
  }

  contains(address: string): boolean {
    const plain = normalizeAddress(address);
    const family = isIP(plain);
    return family !== 0 && this.#list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
  }
}

/** Which header the trusted proxies append the client's address to. */
export type ForwardedHeader = 'x-forwarded-for' | 'forwarded';

type HeaderValue = string | string[] | undefined;

/** `::ffff:127.0.0.1` is 127.0.0.1; Forwarded's `"[2001:db8::1]:4711"` and `1.2.3.4:80` lose quotes, brackets and port. */
export function normalizeAddress(address: string): string {
  let a = address.trim().replace(/^"(.*)"$/, '$1');
  if (a.startsWith('[')) a = a.slice(1, a.indexOf(']') < 0 ? undefined : a.indexOf(']'));
  else if (/^\d+\.\d+\.\d+\.\d+:\d+$/.test(a)) a = a.slice(0, a.lastIndexOf(':'));
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  return mapped ? mapped[1]! : a;
}

/** The hops a header lists, leftmost (farthest from us) first. */
export function forwardedHops(header: ForwardedHeader, value: HeaderValue): string[] {
  if (value === undefined) return [];
  const joined = Array.isArray(value) ? value.join(',') : value;
  if (header === 'x-forwarded-for') return joined.split(',').map((h) => h.trim()).filter((h) => h !== '');
  const hops: string[] = [];
  for (const element of joined.split(',')) {
    const pair = element.split(';').map((p) => p.trim()).find((p) => p.toLowerCase().startsWith('for='));
    // An element without for= is still a hop, of unknown address: it ends the walk.
    hops.push(pair ? pair.slice(4) : 'unknown');
  }
  return hops;
}

/**
 * The client's address: the connection's peer, unless it is a trusted proxy; then the hops are
 * walked from the right while they are trusted proxies too. A hop that is not an address
 * ("unknown", an obfuscated name) stops the walk at the last proxy that vouched for it.
 */
export function clientAddressBehind(peer: string | undefined, hops: readonly string[], isTrusted: (address: string) => boolean): string {
  let client = normalizeAddress(peer ?? '');
  if (!isTrusted(client)) return client;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = normalizeAddress(hops[i]!);
    if (isIP(hop) === 0) return client;
    client = hop;
    if (!isTrusted(hop)) return hop;
  }
  return client;
}
