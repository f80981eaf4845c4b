// Browser request forgery: a page on another site can make a browser send requests to the
// registry with the Basic credentials it has cached. Browsers say where a request comes from
// (Sec-Fetch-Site, Origin); non-browser clients (docker, curl, the CLI) send neither. A request
// that a browser marks as coming from elsewhere is refused before its credentials are looked at.
import type { FastifyRequest } from 'fastify';

const SAFE = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface OriginPolicy {
  /** The registry's external base URL (http.host), or '' to use the request's Host. */
  host: string;
  /** Origins the operator trusts explicitly (http.cors.allowedorigins; `*` trusts none). */
  trusted: string[];
}

/** Why a state-changing request looks forged by another site, or undefined when it does not. */
export function crossSiteReason(req: FastifyRequest, policy: OriginPolicy): string | undefined {
  if (SAFE.has(req.method)) return undefined;
  const site = header(req, 'sec-fetch-site');
  const origin = header(req, 'origin');
  const own = ownOrigin(req, policy.host);
  const trusted = origin !== undefined && (origin === own || policy.trusted.filter((o) => o !== '*').includes(origin));
  // same-site is not enough: a sibling host (a user-content subdomain) is another origin.
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !trusted) return `a ${site} browser request may not change anything here`;
  if (origin !== undefined && !trusted) return `requests from origin ${origin} may not change anything here`;
  return undefined;
}

/** Whether the body (if any) is declared as JSON; forms and text/plain are what a page can send without asking. */
export function isJsonBody(req: FastifyRequest): boolean {
  const type = header(req, 'content-type');
  if (type === undefined) return !hasBody(req);
  return /^application\/json\s*(;|$)/i.test(type.trim());
}

function hasBody(req: FastifyRequest): boolean {
  const length = header(req, 'content-length');
  return header(req, 'transfer-encoding') !== undefined || (length !== undefined && length !== '0');
}

function ownOrigin(req: FastifyRequest, host: string): string {
  if (host) {
    try {
      return new URL(host).origin;
    } catch { /* not a URL: judged by the Host the client reached */ }
  }
  return `${req.protocol}://${req.headers.host ?? req.hostname}`;
}

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}
