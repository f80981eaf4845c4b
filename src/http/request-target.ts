// The one reading of a request target. The router, the auth gate, the handlers and the audit
// all take the path from here, so no two of them can disagree about what was asked for (a
// `#` after `/v2`, or `/%762/`, once let requests reach handlers the gate had not judged).
// Nothing is normalised: a target is either already canonical, and used byte for byte, or
// refused before routing.
import { RegistryError } from '../errors/index.js';
import { matchRoute, type RouteMatch } from './routes.js';
import { pathPartError, undecodablePathError } from './protocol-errors.js';

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
export function parseRequestTarget(raw: string, prefix: string): RequestTarget {
  if (!raw.startsWith('/') || raw.startsWith('//')) throw invalid(raw, prefix, 'only origin-form targets (/path?query) are accepted');
  if (raw.includes('#')) throw invalid(raw, prefix, 'a request target carries no fragment (#)');
  const q = raw.indexOf('?');
  const path = q < 0 ? raw : raw.slice(0, q);
  const query = q < 0 ? '' : raw.slice(q + 1);
  if (path.includes('\\')) throw invalid(raw, prefix, 'backslash in path');
  if (path.includes(';')) throw invalid(raw, prefix, 'semicolon in path');
  checkPercentEncoding(raw, path, prefix);
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i]!;
    if (segment === '.' || segment === '..') throw invalid(raw, prefix, 'dot segment in path');
    if (segment === '' && i < segments.length - 1) throw invalid(raw, prefix, 'empty segment (//) in path');
  }
  const base = `${prefix}/v2`;
  if (path !== base && !path.startsWith(`${base}/`)) return { path, query };
  const rest = path.slice(base.length + 1);
  const match = rest === '' ? undefined : matchRoute(rest);
  return { path, query, api: match ? { rest, match } : { rest } };
}

function checkPercentEncoding(raw: string, path: string, prefix: string): void {
  let at = path.indexOf('%');
  if (at < 0) return;
  try {
    decodeURIComponent(path);
  } catch {
    throw undecodablePathError(raw, prefix);
  }
  while (at >= 0) {
    const decoded = String.fromCharCode(parseInt(path.slice(at + 1, at + 3), 16));
    if (NEVER_ENCODED.test(decoded)) throw invalid(raw, prefix, `percent-encoded '${decoded}' in path`);
    at = path.indexOf('%', at + 3);
  }
}

/** Refused as the spec's error for the part it is in when a route shows which, else as a bad request. */
function invalid(raw: string, prefix: string, reason: string): RegistryError {
  const refused = new RegistryError('UNSUPPORTED', { target: raw.slice(0, 256), reason }, { status: 400, message: `request target refused: ${reason}` });
  return raw.startsWith('/') ? pathPartError(raw, prefix, reason, refused) : refused;
}

const TARGET = Symbol('berth.requestTarget');
type Carrier = { [TARGET]?: RequestTarget | RegistryError };

/** Where refused targets are routed: no route has this path, and the first hook answers the refusal. */
export const REFUSED_TARGET_PATH = '/.berth/refused-target';

/**
 * Fastify's `rewriteUrl`: reads the target once, before routing, and keeps the result on the
 * raw request. An accepted target is routed unchanged; a refused one is routed nowhere.
 */
export function targetRewriter(prefix: string): (raw: { url?: string }) => string {
  return (raw) => {
    const carrier = raw as Carrier;
    try {
      carrier[TARGET] = parseRequestTarget(raw.url ?? '', prefix);
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
