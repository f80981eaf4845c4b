// Where an endpoint may connect when the registry it speaks to is not trusted to choose hosts
// (the pull-through cache: an upstream names hosts in redirects, tag-list Link headers and its
// token realm). Its own host and port and the operator's extra hosts are trusted, whatever
// they resolve to. Any other host is reached only when every address it resolves to is public: no
// loopback, private, CGNAT, link-local (cloud metadata) or other special-purpose ranges. The
// check is on the addresses the connection is made to (a lookup hook), so a name that resolves
// to 127.0.0.1 is refused like 127.0.0.1 itself, and DNS cannot answer differently between a
// check and the connection.
import { promises as dnsPromises, lookup as dnsLookup, type LookupAddress, type LookupAllOptions, type LookupOneOptions } from 'node:dns';
import { BlockList, isIP, type LookupFunction } from 'node:net';
import { buildConnector } from 'undici';

/** A connection, redirect or Link the policy refused; the proxy reports it, the request is not retried. */
export class ForbiddenTargetError extends Error {
  readonly code = 'ERR_BERTH_FORBIDDEN_TARGET';
  constructor(message: string) {
    super(message);
    this.name = 'ForbiddenTargetError';
  }
}

const SPECIAL = new BlockList();
for (const [net, bits] of [
  ['0.0.0.0', 8], ['10.0.0.0', 8], ['100.64.0.0', 10], ['127.0.0.0', 8], ['169.254.0.0', 16], ['172.16.0.0', 12],
  ['192.0.0.0', 24], ['192.0.2.0', 24], ['192.168.0.0', 16], ['198.18.0.0', 15], ['198.51.100.0', 24], ['203.0.113.0', 24],
  ['224.0.0.0', 4], ['240.0.0.0', 4],
] as const) SPECIAL.addSubnet(net, bits, 'ipv4');
for (const [net, bits] of [
  // ::/96 holds :: and ::1 (and the deprecated IPv4-compatible form); ::ffff:0:0/96 and
  // 64:ff9b::/96 embed an IPv4 address, checked on its own below.
  ['::', 96], ['100::', 64], ['2001:db8::', 32], ['fc00::', 7], ['fe80::', 10], ['fec0::', 10], ['ff00::', 8],
] as const) SPECIAL.addSubnet(net, bits, 'ipv6');

/** Whether an IP address is on the public internet (not loopback, private, link-local...). */
export function isPublicAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 4) return !SPECIAL.check(address, 'ipv4');
  if (family !== 6) return false;
  const groups = expandIpv6(address);
  if (!groups) return false;
  const embedsV4 = (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff)
    || (groups[0] === 0x64 && groups[1] === 0xff9b && groups.slice(2, 6).every((g) => g === 0));
  if (embedsV4) return isPublicAddress(`${groups[6]! >> 8}.${groups[6]! & 255}.${groups[7]! >> 8}.${groups[7]! & 255}`);
  return !SPECIAL.check(address, 'ipv6');
}

/** The eight 16-bit groups of an IPv6 address (with `::` and a dotted IPv4 tail expanded). */
function expandIpv6(address: string): number[] | undefined {
  let text = address.split('%')[0]!.toLowerCase();
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, v4.index)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.split('::') as [string, string | undefined];
  const parse = (s: string) => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const left = parse(head);
  const right = tail === undefined ? [] : parse(tail);
  const groups = tail === undefined ? left : [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
  return groups.length === 8 && groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : undefined;
}

interface HostRule {
  hostname: string;
  /** Subdomains of `hostname` (an entry `*.example.com`). */
  wildcard: boolean;
  /** '' matches any port. */
  port: string;
}

function defaultPort(protocol: string): string {
  return protocol === 'https:' ? '443' : '80';
}

/** An entry of the allow-list: `host`, `host:port`, `*.domain` or `[v6]:port`. */
export function parseHostRule(entry: string): HostRule | undefined {
  const wildcard = entry.startsWith('*.');
  try {
    const url = new URL(`http://${wildcard ? entry.slice(2) : entry}`);
    if (url.pathname !== '/' || url.username || url.search) return undefined;
    // URL drops a port that is the scheme's default: keep what the entry said.
    const port = url.port || (/:(\d+)$/.test(entry) ? /:(\d+)$/.exec(entry)![1]! : '');
    return { hostname: url.hostname, wildcard, port };
  } catch {
    return undefined;
  }
}

export class HostPolicy {
  readonly #origin: URL;
  readonly #rules: HostRule[];

  /** `base`: the registry's own URL; `hosts`: allow-list entries (see parseHostRule). */
  constructor(base: string, hosts: readonly string[] = []) {
    this.#origin = new URL(base);
    this.#rules = hosts.map((h) => {
      const rule = parseHostRule(h);
      if (!rule) throw new Error(`not a host, host:port or *.domain: ${JSON.stringify(h)}`);
      return rule;
    });
  }

  /** The registry's own host and port (either scheme), or a host of the allow-list. */
  trusts(hostname: string, port: string, protocol: string): boolean {
    const host = hostname.toLowerCase();
    const p = port || defaultPort(protocol);
    if (host === this.#origin.hostname.toLowerCase() && p === (this.#origin.port || defaultPort(this.#origin.protocol))) return true;
    return this.#rules.some((r) => (r.wildcard ? host.endsWith(`.${r.hostname}`) : host === r.hostname) && (r.port === '' || r.port === p));
  }

  trustsUrl(url: string): boolean {
    const u = new URL(url);
    return this.trusts(u.hostname, u.port, u.protocol);
  }

  /**
   * The check `connector` makes, for a request a forward proxy connects for Berth: trusted
   * hosts pass; any other only when every address it resolves to here is public. A name that
   * does not resolve here cannot be checked and is refused (list it in allowedhosts when only
   * the proxy can resolve it). The proxy resolves the name again, so unlike the connector this
   * cannot pin the checked address: a name whose DNS answers change between the two lookups
   * (rebinding) is only caught if the proxy itself refuses internal targets.
   */
  async checkTarget(url: string): Promise<void> {
    const u = new URL(url);
    const hostname = u.hostname.replace(/^\[(.*)\]$/, '$1');
    if (this.trusts(hostname, u.port, u.protocol)) return;
    if (isIP(hostname)) {
      if (!isPublicAddress(hostname)) throw new ForbiddenTargetError(`refused to connect to ${hostname}: not a public address, and not an allowed host`);
      return;
    }
    let addresses: LookupAddress[];
    try {
      addresses = await dnsPromises.lookup(hostname, { all: true });
    } catch (err) {
      throw new ForbiddenTargetError(`refused to connect to ${hostname} through the proxy: it does not resolve here (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}), so its addresses cannot be checked; list it in allowedhosts to trust it`);
    }
    const special = addresses.find((a) => !isPublicAddress(a.address));
    if (special || addresses.length === 0) {
      throw new ForbiddenTargetError(`refused to connect to ${hostname}: it resolves to ${special?.address ?? 'nothing'}, not a public address, and it is not an allowed host`);
    }
  }

  /**
   * An undici connector: trusted hosts connect as usual; any other host only to public
   * addresses (an IP literal is checked here, a name in the lookup the socket resolves it with).
   */
  connector(options: buildConnector.BuildOptions): buildConnector.connector {
    const plain = buildConnector(options);
    const guarded = buildConnector({ ...options, lookup: publicOnlyLookup } as buildConnector.BuildOptions);
    return (opts, callback) => {
      const hostname = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      if (this.trusts(hostname, String(opts.port ?? ''), opts.protocol)) return plain(opts, callback);
      if (isIP(hostname) && !isPublicAddress(hostname)) {
        callback(new ForbiddenTargetError(`refused to connect to ${hostname}: not a public address, and not an allowed host`), null);
        return;
      }
      guarded(opts, callback);
    };
  }
}

/** dns.lookup that fails unless every address the name has is public. */
export const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  const all: LookupAllOptions = { ...(options as LookupOneOptions), all: true };
  dnsLookup(hostname, all, (err, addresses: LookupAddress[]) => {
    if (err) return callback(err, '', 0);
    const special = addresses.find((a) => !isPublicAddress(a.address));
    if (special || addresses.length === 0) {
      return callback(new ForbiddenTargetError(`refused to connect to ${hostname}: it resolves to ${special?.address ?? 'nothing'}, not a public address, and it is not an allowed host`), '', 0);
    }
    if ((options as { all?: boolean }).all) return (callback as unknown as (e: null, a: LookupAddress[]) => void)(null, addresses);
    callback(null, addresses[0]!.address, addresses[0]!.family);
  });
};
