// The route table: every endpoint of the distribution-spec, as (method, path pattern, handler).
// Repository names contain slashes, so the path after /v2/ is matched here, not by the router,
// once per request (see request-target.ts); logs, metrics, the gate and the audit read that match.
import type { Handler } from './context.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './handlers/uploads.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { catalog, listReferrers, listTags } from './handlers/listings.js';

export interface Route {
  /** Stable route name, for logs and the auth gate. */
  name: string;
  /** Distribution's handler name for this route in `registry_http_*{handler}`. */
  metric: string;
  /** Matches the path after `/v2/`; group 1 is the repository name, group 2 the parameter. */
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** Whether group 1 is a repository name. */
  hasName: boolean;
  /** The action each method needs on the repository (token-spec scope actions); the catalog needs `registry:catalog:*`. */
  actions: Partial<Record<string, 'pull' | 'push' | 'delete' | '*'>>;
}

const PULL = { GET: 'pull', HEAD: 'pull' } as const;

export const ROUTES: Route[] = [
  { name: 'catalog', metric: 'catalog', pattern: /^_catalog$/, hasName: false, methods: { GET: catalog }, actions: { GET: '*' } },
  { name: 'upload-start', metric: 'blob_upload', pattern: /^(.+)\/blobs\/uploads\/?$/, hasName: true, methods: { POST: startUpload }, actions: { POST: 'push' } },
  {
    name: 'upload', metric: 'blob_upload_chunk', pattern: /^(.+)\/blobs\/uploads\/([^/]+)$/, hasName: true,
    methods: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload },
    actions: { GET: 'push', PATCH: 'push', PUT: 'push', DELETE: 'push' },
  },
  {
    name: 'blob', metric: 'blob', pattern: /^(.+)\/blobs\/([^/]+)$/, hasName: true, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob },
    actions: { ...PULL, DELETE: 'delete' },
  },
  {
    name: 'manifest', metric: 'manifest', pattern: /^(.+)\/manifests\/([^/]+)$/, hasName: true,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
    actions: { ...PULL, PUT: 'push', DELETE: 'delete' },
  },
  { name: 'tags', metric: 'tags', pattern: /^(.+)\/tags\/list$/, hasName: true, methods: { GET: listTags }, actions: PULL },
  { name: 'referrers', metric: 'referrers', pattern: /^(.+)\/referrers\/([^/]+)$/, hasName: true, methods: { GET: listReferrers }, actions: PULL },
];

export interface RouteMatch {
  route: Route;
  name: string;
  param: string;
}

/**
 * Finds the route a path after `/v2/` names. The request target is read once per request
 * (request-target.ts) and the match kept on it; `buildApp` takes another matcher only so a test
 * can count the calls.
 */
export type RouteMatcher = (pathAfterV2: string) => RouteMatch | undefined;

export function matchRoute(pathAfterV2: string): RouteMatch | undefined {
  for (const route of ROUTES) {
    const m = route.pattern.exec(pathAfterV2);
    if (!m) continue;
    return { route, name: route.hasName ? (m[1] ?? '') : '', param: safeDecode(m[2] ?? '') };
  }
  return undefined;
}

function safeDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
