// URLs the registry hands back (Location), correct for the client's side of a reverse proxy:
// http.host wins, then Forwarded / X-Forwarded-* from a proxy the registry trusts (anyone can
// send those headers), then the request's own Host; or relative.
import type { FastifyRequest } from 'fastify';
import type { HttpSettings } from './settings.js';

export function externalUrl(req: FastifyRequest, settings: HttpSettings, path: string): string {
  const full = `${settings.prefix}${path}`;
  if (settings.relativeUrls) return full;
  return `${externalBase(req, settings)}${full}`;
}

function externalBase(req: FastifyRequest, settings: HttpSettings): string {
  if (settings.host) return settings.host;
  const own = `${req.protocol}://${req.headers.host ?? 'localhost'}`;
  const forwarded = parseForwarded(header(req, 'forwarded'));
  const proto = forwarded.proto ?? firstValue(header(req, 'x-forwarded-proto'));
  const host = forwarded.host ?? firstValue(header(req, 'x-forwarded-host'));
  if (proto === undefined && host === undefined) return own;
  if (!settings.proxies.vouchesForUrl(req.socket.remoteAddress)) {
    settings.warnOnce?.(`forwarding headers (X-Forwarded-Proto/-Host, Forwarded) from ${req.socket.remoteAddress ?? '?'} ignored: `
      + 'list the proxy in http.trustedproxies, or set http.host');
    return own;
  }
  return `${proto ?? req.protocol}://${host ?? req.headers.host ?? 'localhost'}`;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function firstValue(value: string | undefined): string | undefined {
  const first = value?.split(',')[0]?.trim();
  return first ? first : undefined;
}

function parseForwarded(value: string | undefined): { proto?: string; host?: string } {
  const first = value?.split(',')[0];
  const out: { proto?: string; host?: string } = {};
  for (const pair of first?.split(';') ?? []) {
    const [k, v] = pair.split('=').map((s) => s.trim());
    const unquoted = v?.replace(/^"(.*)"$/, '$1');
    if (k?.toLowerCase() === 'proto' && unquoted) out.proto = unquoted;
    if (k?.toLowerCase() === 'host' && unquoted) out.host = unquoted;
  }
  return out;
}

/** The `Link` header for the next page of a paginated list (relative, as Distribution sends it). */
export function nextLink(settings: HttpSettings, path: string, n: number, last: string): string {
  return `<${settings.prefix}${path}?last=${encodeURIComponent(last)}&n=${n}>; rel="next"`;
}
