// The address a redirect decision is about: the connection's peer, or, when the peer is a proxy
// the operator trusts, the first X-Forwarded-For hop from the right that is not one (the same
// walk as the registry's own client address, src/net/forwarded.ts).
import { BlockList, isIP } from 'node:net';
import type { RedirectRequest } from '../driver.js';
import { clientAddressBehind, forwardedHops, normalizeAddress } from '../../net/forwarded.js';

export { normalizeAddress };

/** A BlockList of CIDRs ("10.0.0.0/8", "::1/128") or single addresses. */
export function addressList(entries: readonly string[]): BlockList {
  const list = new BlockList();
  for (const entry of entries) addToList(list, entry);
  return list;
}

export function addToList(list: BlockList, entry: string): void {
  const [address = '', bits] = entry.trim().split('/');
  const family = isIP(address);
  if (family === 0) throw new Error(`not an IP address or CIDR: ${JSON.stringify(entry)}`);
  const type = family === 4 ? 'ipv4' : 'ipv6';
  if (bits === undefined) list.addAddress(address, type);
  else list.addSubnet(address, Number(bits), type);
}

export function listContains(list: BlockList, address: string): boolean {
  const a = normalizeAddress(address);
  const family = isIP(a);
  if (family === 0) return false;
  return list.check(a, family === 4 ? 'ipv4' : 'ipv6');
}

export function clientAddress(req: RedirectRequest, trustedProxies: BlockList): string {
  return clientAddressBehind(req.remoteAddress, forwardedHops('x-forwarded-for', req.forwardedFor), (a) => listContains(trustedProxies, a));
}
