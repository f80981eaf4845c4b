// The route table: every endpoint of the distribution-spec, as (method, path pattern, handler).
// Repository names contain slashes, so the path after /v2/ is matched here, not by the router.
import type { Handler } from './context.js';
import { deleteBlob, getBlob } from './handlers/blobs.js';
import { deleteUpload, getUpload, patchUpload, putUpload, startUpload } from './handlers/uploads.js';
import { deleteManifest, getManifest, putManifest } from './handlers/manifests.js';
import { catalog, listReferrers, listTags } from './handlers/listings.js';

export interface Route {
  /** Stable route name, for logs and metrics. */
  name: string;
  /** Matches the path after `/v2/`; group 1 is the repository name, group 2 the parameter. */
  pattern: RegExp;
  methods: Partial<Record<string, Handler>>;
  /** Whether group 1 is a repository name. */
  hasName: boolean;
}

export const ROUTES: Route[] = [
  { name: 'catalog', pattern: /^_catalog$/, hasName: false, methods: { GET: catalog } },
  { name: 'upload-start', pattern: /^(.+)\/blobs\/uploads\/?$/, hasName: true, methods: { POST: startUpload } },
  {
    name: 'upload', pattern: /^(.+)\/blobs\/uploads\/([^/]+)$/, hasName: true,
    methods: { GET: getUpload, PATCH: patchUpload, PUT: putUpload, DELETE: deleteUpload },
  },
  { name: 'blob', pattern: /^(.+)\/blobs\/([^/]+)$/, hasName: true, methods: { GET: getBlob, HEAD: getBlob, DELETE: deleteBlob } },
  {
    name: 'manifest', pattern: /^(.+)\/manifests\/([^/]+)$/, hasName: true,
    methods: { GET: getManifest, HEAD: getManifest, PUT: putManifest, DELETE: deleteManifest },
  },
  { name: 'tags', pattern: /^(.+)\/tags\/list$/, hasName: true, methods: { GET: listTags } },
  { name: 'referrers', pattern: /^(.+)\/referrers\/([^/]+)$/, hasName: true, methods: { GET: listReferrers } },
];

export interface RouteMatch {
  route: Route;
  name: string;
  param: string;
}

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
