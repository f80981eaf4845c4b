// Address allow-lists (CIDR) and the client address they apply to: the connection's peer, or the
// first X-Forwarded-For hop when (and only when) the peer is a trusted proxy.
import { BlockList, isIPv4, isIPv6 } from 'node:net';

export class AddressList {
  readonly #list = new BlockList();
  readonly size: number;

  constructor(entries: string[]) {
    for (const entry of entries) {
      const [addr, bits] = entry.trim().split('/') as [string, string | undefined];
      const type = isIPv6(addr) ? 'ipv6' : 'ipv4';
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
    const plain = unmapped(address);
    if (isIPv4(plain)) return this.#list.check(plain, 'ipv4');
    if (isIPv6(plain)) return this.#list.check(plain, 'ipv6');
    return false;
  }
}

/** `::ffff:127.0.0.1` is 127.0.0.1. */
export function unmapped(address: string): string {
  return address.startsWith('::ffff:') && isIPv4(address.slice(7)) ? address.slice(7) : address;
}

export function clientAddress(peer: string | undefined, forwardedFor: string | string[] | undefined, trusted: AddressList): string {
  const direct = unmapped(peer ?? '');
  if (trusted.size === 0 || !trusted.contains(direct) || forwardedFor === undefined) return direct;
  const header = Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor;
  const first = header.split(',')[0]?.trim() ?? '';
  return isIPv4(unmapped(first)) || isIPv6(first) ? unmapped(first) : direct;
}
