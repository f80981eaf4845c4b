// The one reading of a request target. The router, the auth gate, the handlers and the audit
// all take the path from here, so no two of them can disagree about what was asked for (a
// `#` after `/v2`, or `/%762/`, once let requests reach handlers the gate had not judged).
// The route is matched here too, once per request: metrics, logs, the gate, the dispatcher and
// the audit all read the kept match.
// Nothing is normalised: a target is either already canonical, and used byte for byte, or
// refused before routing.
import { RegistryError } from '../errors/index.js';
import { isValidName } from '../oci/reference.js';
import { matchRoute, type RouteMatch, type RouteMatcher } from './routes.js';

export interface RequestTarget {
  /** The path as received, never decoded. */
  path: string;
  /** The query string without `?` ('' when there is none). */
  query: string;
  /** Set when the path is the registry API (`<prefix>/v2` or below it). */
  api?: RegistryApiTarget;
}

export interface RegistryApiTarget {
  /** The path after `<prefix>/v2/`: '' for the API base (`/v2` and `/v2/`). */
  rest: string;
  /** The route it names, if any (matched here, once). */
  match?: RouteMatch;
}

/** Characters whose percent-encoding is never needed, so an encoded one only hides a path's shape. */
const NEVER_ENCODED = /^[A-Za-z0-9\-._~/\\;]$/;

/** Parses a raw request target (`req.url` as the client sent it), or throws the error that refuses it. */
export function parseRequestTarget(raw: string, prefix: string, match: RouteMatcher = matchRoute): RequestTarget {
  const invalid = (reason: string) => refusal(raw, prefix, reason, match);
  if (!raw.startsWith('/') || raw.startsWith('//')) throw invalid('only origin-form targets (/path?query) are accepted');
  if (raw.includes('#')) throw invalid('a request target carries no fragment (#)');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  if (path.includes('\\')) throw invalid('backslash in path');
  if (path.includes(';')) throw invalid('semicolon in path');
  checkPercentEncoding(raw, path, prefix, match, invalid);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.' || segment === '..') throw invalid('dot segment in path');
    if (segment === '' && i < segments.length - 1) throw invalid('empty segment (//) in path');
  }
  const base = `${prefix}/v2`;
  if (path !== base && !path.startsWith(`${base}/`)) return { path, query };
  const rest = path.slice(base.length + 1);
  const routed = rest === '' ? undefined : match(rest);
  return { path, query, api: routed ? { rest, match: routed } : { rest } };
}

function checkPercentEncoding(raw: string, path: string, prefix: string, match: RouteMatcher, invalid: (reason: string) => RegistryError): void {
  let at = path.indexOf('%');
  if (at < 0) return;
  try {
    decodeURIComponent(path);
  } catch {
    throw undecodablePathError(raw, prefix, match);
  }
  while (at >= 0) {
    const decoded = String.fromCharCode(parseInt(path.slice(at + 1, at + 3), 16));
    if (NEVER_ENCODED.test(decoded)) throw invalid(`percent-encoded '${decoded}' in path`);
    at = path.indexOf('%', at + 3);
  }
}

/** Refused as the spec's error for the part it is in when a route shows which, else as a bad request. */
function refusal(raw: string, prefix: string, reason: string, match: RouteMatcher): RegistryError {
  const refused = new RegistryError('UNSUPPORTED', { target: raw.slice(0, 256), reason }, { status: 400, message: `request target refused: ${reason}` });
  return raw.startsWith('/') ? partError(routeOf(raw, prefix, match), reason, refused) : refused;
}

/** The error for a path that is not valid percent-encoded UTF-8 (`%ff`), named after the part it is in. */
function undecodablePathError(url: string, prefix: string, match: RouteMatcher): RegistryError {
  return partError(routeOf(url, prefix, match), UNDECODABLE, new RegistryError('NOT_FOUND', { path: url.split('?')[0] }));
}

const UNDECODABLE = 'not valid percent-encoded UTF-8';

/** The route a refused target's raw path shows (matched here instead of in parseRequestTarget: still once). */
function routeOf(url: string, prefix: string, match: RouteMatcher): RouteMatch | undefined {
  const path = url.split('?')[0]!;
  const base = `${prefix}/v2/`;
  return path.startsWith(base) ? match(path.slice(base.length)) : undefined;
}

/**
 * The error for a path that cannot be used as written, named after the part of a route it is in
 * (the name, a reference, a digest, an upload id) where the raw path shows one; else `fallback`.
 */
function partError(match: RouteMatch | undefined, reason: string, fallback: RegistryError): RegistryError {
  if (!match) return fallback;
  if (match.route.hasName && !isValidName(match.name)) return new RegistryError('NAME_INVALID', { name: match.name, reason });
  switch (match.route.name) {
    case 'manifest': return new RegistryError('MANIFEST_INVALID', { reason: 'invalid tag', tag: match.param });
    case 'blob':
    case 'referrers': return new RegistryError('DIGEST_INVALID', { digest: match.param, reason });
    case 'upload': return new RegistryError('BLOB_UPLOAD_UNKNOWN', { id: match.param });
    default: return fallback;
  }
}

/**
 * The router's refusal of a target this module accepted (a path past the router's parameter
 * length), answered as an undecodable path is: named after the kept route's part, else 404.
 */
export function routerRefusal(req: { raw: object; url: string }): RegistryError {
  const kept = (req.raw as Carrier)[TARGET];
  if (kept instanceof RegistryError) return kept;
  return partError(kept?.api?.match, UNDECODABLE, new RegistryError('NOT_FOUND', { path: req.url.split('?')[0] }));
}

const TARGET = Symbol('berth.requestTarget');
type Carrier = { [TARGET]?: RequestTarget | RegistryError };

/** Where refused targets are routed: no route has this path, and the first hook answers the refusal. */
export const REFUSED_TARGET_PATH = '/.berth/refused-target';

/**
 * Fastify's `rewriteUrl`: reads the target once, before routing, and keeps the result on the
 * raw request. An accepted target is routed unchanged; a refused one is routed nowhere.
 */
export function targetRewriter(prefix: string, match: RouteMatcher = matchRoute): (raw: { url?: string }) => string {
  return (raw) => {
    const carrier = raw as Carrier;
    try {
      carrier[TARGET] = parseRequestTarget(raw.url ?? '', prefix, match);
      return raw.url ?? '';
    } catch (err) {
      carrier[TARGET] = err instanceof RegistryError ? err : new RegistryError('UNSUPPORTED', 'request target refused', { status: 400 });
      return REFUSED_TARGET_PATH;
    }
  };
}

/** The request's target as read before routing; throws the refusal for a refused one. */
export function targetOf(req: { raw: object }): RequestTarget {
  const t = (req.raw as Carrier)[TARGET];
  if (t === undefined) throw new RegistryError('INTERNAL', 'request target was not read before routing');
  if (t instanceof RegistryError) throw t;
  return t;
}

/** The target as read before routing, without throwing: undefined when refused (or never read). */
export function acceptedTarget(req: { raw: object }): RequestTarget | undefined {
  const t = (req.raw as Carrier)[TARGET];
  return t instanceof RegistryError ? undefined : t;
}
