// The read API's OpenAPI 3.1 document: served at /api/v1/openapi.json and written to
// docs/openapi/read-api.json (a test keeps the two equal, and validates every answer the tests
// get against these schemas). Shapes only grow: a field once here keeps its name and type.
const str = { type: 'string' } as const;
const int = { type: 'integer', minimum: 0 } as const;
const nullable = (type: string, extra: Record<string, unknown> = {}) => ({ type: [type, 'null'], ...extra });
const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const obj = (properties: Record<string, unknown>, required = Object.keys(properties)) => ({ type: 'object', properties, required, additionalProperties: false });
const stringMap = { type: 'object', additionalProperties: { type: 'string' } } as const;
const time = nullable('string', { format: 'date-time' });
const page = (item: string) => obj({ items: { type: 'array', items: ref(item) }, next: nullable('string', { description: 'Pass as `cursor` for the next page; null on the last page.' }) });

const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 50 } };
const cursor = { name: 'cursor', in: 'query', schema: str, description: 'The `next` of the previous page.' };
const order = { name: 'order', in: 'query', schema: { enum: ['asc', 'desc'] }, description: 'Default: asc for name, desc otherwise.' };
const repoName = { name: 'name', in: 'path', required: true, schema: str, description: 'The repository name with its slashes unescaped (`team/app`), as in /v2/.' };

const auditFilters = [
  { name: 'actor', in: 'query', schema: str, description: 'Who acted (a user, robot, or gc-schedule, retention).' },
  { name: 'action', in: 'query', schema: str, description: 'push, pull, delete, login.failed, user.add, gc.run, ...' },
  { name: 'repository', in: 'query', schema: str, description: 'Entries about this repository (targets `name`, `name:tag`, `name@digest`).' },
  { name: 'since', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'From this time (inclusive).' },
  { name: 'until', in: 'query', schema: { type: 'string', format: 'date-time' }, description: 'Before this time (exclusive).' },
];
const linkRef = obj({ repository: str, digest: str });

const errors = {
  400: { description: 'Bad input (code INVALID, NAME_INVALID, DIGEST_INVALID, TAG_INVALID).', content: { 'application/json': { schema: ref('Errors') } } },
  401: { description: 'Credentials needed; the WWW-Authenticate challenge is the registry API\'s.', content: { 'application/json': { schema: ref('Errors') } } },
  403: { description: 'Signed in, not allowed.', content: { 'application/json': { schema: ref('Errors') } } },
};
const notFound = { 404: { description: 'Unknown repository (NAME_UNKNOWN) or artifact (MANIFEST_UNKNOWN).', content: { 'application/json': { schema: ref('Errors') } } } };
const ok = (schema: unknown, description: string) => ({ 200: { description, content: { 'application/json': { schema } } } });

const platform = obj({
  os: str, architecture: str, variant: str, osVersion: str, digest: str, sizeBytes: int,
}, ['os', 'architecture', 'digest', 'sizeBytes']);
const artifactSummaryProperties = {
  digest: str,
  mediaType: str,
  artifactType: nullable('string'),
  kind: { enum: ['image', 'index', 'other'] },
  sizeBytes: { ...int, description: 'Compressed bytes: manifest, config and layers; for an index its children\'s, each blob once.' },
  platforms: { type: 'array', items: ref('Platform'), description: 'One per platform of an index (with that platform\'s size); the image\'s own for an image.' },
  created: nullable('string', { description: 'From the image config.' }),
  pushedAt: time,
  lastPulledAt: time,
  tags: { type: 'array', items: str },
  subject: nullable('string', { description: 'The artifact this one refers to (a signature\'s image).' }),
  referrers: ref('ReferrerCounts'),
  annotations: stringMap,
};

const gcRunSummary = {
  id: str, trigger: { enum: ['schedule', 'api', 'cli', 'eviction'] }, actor: nullable('string'), startedAt: { type: 'string', format: 'date-time' },
  durationMs: int, dryRun: { type: 'boolean' }, blobs: int, bytes: int, manifests: int, layerLinks: int,
};

export const OPENAPI = {
  openapi: '3.1.0',
  info: {
    title: 'Berth read API',
    version: '1',
    description: 'What the registry holds, for the console and scripts: served from the metadata database, never by walking storage. '
      + 'A caller sees exactly what the registry API (/v2/) lets them pull, with the same credentials (Basic, or Bearer tokens in token mode); '
      + 'registry-wide records need a system administrator. Pages are keyset cursors: pass `next` back as `cursor`.',
  },
  paths: {
    '/api/v1/repositories': {
      get: {
        operationId: 'listRepositories',
        summary: 'Repositories the caller may pull, paged.',
        parameters: [
          { name: 'q', in: 'query', schema: str, description: 'Substring of the name (typeahead).' },
          { name: 'project', in: 'query', schema: str, description: 'Only this project\'s repositories (names starting `<project>/`).' },
          { name: 'sort', in: 'query', schema: { enum: ['name', 'lastPush', 'size'], default: 'name' } },
          order, limit, cursor,
        ],
        responses: { ...ok(ref('RepositoryPage'), 'A page of repositories.'), ...errors },
      },
    },
    '/api/v1/repositories/{name}': {
      get: {
        operationId: 'getRepository',
        parameters: [repoName],
        responses: { ...ok(ref('Repository'), 'One repository.'), ...errors, ...notFound },
      },
    },
    '/api/v1/repositories/{name}/-/artifacts': {
      get: {
        operationId: 'listArtifacts',
        summary: 'A repository\'s artifacts (index children and referrers appear under their index or subject unless `all=true`).',
        parameters: [
          repoName,
          { name: 'tag', in: 'query', schema: str, description: 'Only artifacts with a tag containing this (case-insensitive).' },
          { name: 'tagged', in: 'query', schema: { enum: ['true', 'false'] }, description: 'Only tagged (true) or untagged (false) artifacts.' },
          { name: 'sort', in: 'query', schema: { enum: ['pushed', 'name'], default: 'pushed' }, description: 'name: by first tag, untagged last.' },
          { name: 'all', in: 'query', schema: { enum: ['true', 'false'] }, description: 'Also list index children and referrers as rows.' },
          order, limit, cursor,
        ],
        responses: { ...ok(ref('ArtifactPage'), 'A page of artifacts.'), ...errors, ...notFound },
      },
    },
    '/api/v1/repositories/{name}/-/artifacts/{reference}': {
      get: {
        operationId: 'getArtifact',
        parameters: [repoName, { name: 'reference', in: 'path', required: true, schema: str, description: 'A digest or a tag.' }],
        responses: { ...ok(ref('ArtifactDetail'), 'One artifact with its manifest, config, history, layers, children and referrers.'), ...errors, ...notFound },
      },
    },
    '/api/v1/repositories/{name}/-/usage': {
      get: {
        operationId: 'getRepositoryUsage',
        summary: 'Storage a repository uses, deduplicated (each blob once); needs its pull right.',
        parameters: [repoName],
        responses: { ...ok(ref('RepositoryUsage'), 'Bytes the repository holds; uniqueBytes is what deleting it would free.'), ...errors, ...notFound },
      },
    },
    '/api/v1/repositories/{name}/-/deletion': {
      get: {
        operationId: 'previewDeletion',
        summary: 'What deleting some of a repository\'s manifests would free, from the reference tables (needs the pull right; the delete itself is /v2/\'s).',
        parameters: [repoName, { name: 'digests', in: 'query', required: true, schema: str, description: 'Up to 100 manifest digests, comma-separated.' }],
        responses: { ...ok(ref('DeletionPreview'), 'Bytes freed once the collector runs: by the manifests alone, and with the index children and referrers they leave untagged.'), ...errors, ...notFound },
      },
    },
    '/api/v1/usage': {
      get: {
        operationId: 'getStorageTotal',
        summary: 'The registry\'s storage: every referenced blob once (system administrators).',
        responses: { ...ok(ref('StorageTotal'), 'Totals.'), ...errors },
      },
    },
    '/api/v1/usage/projects': {
      get: {
        operationId: 'listProjectUsage',
        summary: 'Storage per project, deduplicated across its repositories (system administrators).',
        responses: { ...ok(ref('ProjectUsageList'), 'Every project holding content, by name.'), ...errors },
      },
    },
    '/api/v1/usage/projects/{project}': {
      get: {
        operationId: 'getProjectUsage',
        parameters: [{ name: 'project', in: 'path', required: true, schema: str }],
        responses: { ...ok(ref('ProjectUsage'), 'One project.'), ...errors, ...notFound },
      },
    },
    '/api/v1/retention/{project}': {
      get: {
        operationId: 'previewRetention',
        summary: 'Dry run of a project\'s retention and immutable-tag rules (gc.retention.projects), or of a draft given in the query; changes nothing (system administrators).',
        parameters: [
          { name: 'project', in: 'path', required: true, schema: str },
          { name: 'keeplast', in: 'query', schema: { type: 'integer', minimum: 0 } },
          { name: 'keeptags', in: 'query', schema: str, description: 'Globs, comma-separated.' },
          { name: 'deleteolderthan', in: 'query', schema: str, description: 'A duration such as 720h.' },
          { name: 'keeppulledwithin', in: 'query', schema: str, description: 'A duration such as 720h: keep tags whose manifest was pulled within it.' },
          { name: 'immutabletags', in: 'query', schema: str, description: 'Globs, comma-separated.' },
        ],
        responses: { ...ok(ref('RetentionPreview'), 'Every tag of the project judged, and what collecting the manifests left untagged would free.'), ...errors },
      },
    },
    '/api/v1/upstreams': {
      get: {
        operationId: 'listUpstreams',
        summary: 'Pull-through upstreams: settings, breaker, what the cache holds, this process\'s hits, misses and bytes since it started (traffic, from its Prometheus counters), and every replica\'s since the database first counted (totals) (system administrators).',
        responses: { ...ok(ref('UpstreamList'), 'Every configured upstream (none without a pull-through cache).'), ...errors },
      },
    },
    '/api/v1/system': {
      get: {
        operationId: 'getSystem',
        summary: 'Version, runtime, storage and metadata kinds, the configuration with secrets masked (system administrators).',
        responses: { ...ok(ref('System'), 'This registry.'), ...errors },
      },
    },
    '/api/v1/audit/entries': {
      get: {
        operationId: 'listAuditEntries',
        summary: 'The audit log, newest first (system administrators). Details under credential-like keys are masked.',
        parameters: [...auditFilters, limit, cursor],
        responses: { ...ok(ref('AuditPage'), 'A page of audit entries.'), ...errors },
      },
    },
    '/api/v1/audit/entries.csv': {
      get: {
        operationId: 'exportAuditEntries',
        summary: 'Every audit entry the filters match, newest first, as CSV (RFC 4180; cells a spreadsheet would run as formulas are prefixed with \'). Columns: at, actor, address, action, target, detail (JSON).',
        parameters: auditFilters,
        responses: { 200: { description: 'A CSV download.', content: { 'text/csv': { schema: str } } }, ...errors },
      },
    },
    '/api/v1/gc/runs': {
      get: {
        operationId: 'listGcRuns',
        summary: 'Garbage collection runs (berth gc, schedule, admin API, eviction), newest first (system administrators).',
        parameters: [limit, cursor],
        responses: { ...ok(ref('GcRunPage'), 'A page of runs.'), ...errors },
      },
    },
    '/api/v1/gc/runs/{id}': {
      get: {
        operationId: 'getGcRun',
        parameters: [{ name: 'id', in: 'path', required: true, schema: str }],
        responses: { ...ok(ref('GcRun'), 'One run with its report.'), ...errors, 404: { description: 'No such run (NOT_FOUND).', content: { 'application/json': { schema: ref('Errors') } } } },
      },
    },
    '/api/v1/notifications/deadletters/entries': {
      get: {
        operationId: 'listDeadLetters',
        summary: 'Notifications that ran out of attempts, oldest first (system administrators). The admin API requeues them (POST /api/v1/notifications/deadletters/requeue).',
        parameters: [{ name: 'endpoint', in: 'query', schema: str, description: 'Only this endpoint\'s.' }, limit, cursor],
        responses: { ...ok(ref('DeadLetterPage'), 'A page of dead letters.'), ...errors },
      },
    },
    '/api/v1/openapi.json': {
      get: { operationId: 'openapi', responses: ok({ type: 'object' }, 'This document.') },
    },
  },
  components: {
    schemas: {
      Errors: obj({
        errors: { type: 'array', items: obj({ code: str, message: str, detail: {} }, ['code', 'message']) },
      }, ['errors']),
      Repository: obj({
        name: str, project: str, artifacts: int, tags: int,
        sizeBytes: { ...int, description: 'Compressed bytes of the repository\'s artifacts, each blob once.' },
        lastPushAt: time,
      }),
      RepositoryPage: page('Repository'),
      RepositoryUsage: obj({ repository: str, project: str, manifests: int, totalBytes: int, uniqueBytes: int, sharedBytes: int }),
      DeletionPreview: obj({
        repository: str, manifests: { type: 'array', items: str }, totalBytes: int, freedBytes: int,
        untagged: obj({ manifests: { type: 'array', items: str }, totalBytes: int, freedBytes: int }),
      }),
      RetentionPreview: obj({
        project: str, configured: { type: 'boolean' },
        policy: obj({ keeplast: nullable('integer'), keeptags: { type: 'array', items: str }, deleteolderthan: nullable('integer', { description: 'ms' }),
          keeppulledwithin: nullable('integer', { description: 'ms' }), immutabletags: { type: 'array', items: str },
          repositories: { type: 'array', items: str, description: 'Repository globs with rules of their own (config.yml).' } }),
        decisions: { type: 'array', items: obj({ repository: str, tag: str, digest: str, pushedAt: str, action: { enum: ['delete', 'keep'] }, reason: str, policy: str }) },
        deletes: int, untaggedManifests: int, freedBytes: nullable('integer'),
      }),
      UpstreamList: obj({ items: { type: 'array', items: ref('Upstream') } }),
      Upstream: obj({
        name: str, remoteurl: str, prefix: nullable('string'), namespaces: { type: 'array', items: str }, ttlMs: int, maxBytes: int, maxAgeMs: int,
        breaker: { enum: ['closed', 'open', 'half-open'] },
        cache: obj({ manifests: int, blobs: int, bytes: int, tags: int, lastPulledAt: time }),
        traffic: { oneOf: [{ type: 'null' }, obj({
          hits: obj({ manifest: int, blob: int }), misses: obj({ manifest: int, blob: int }), upstreamBytes: int, servedBytes: int,
          errors: { type: 'object', additionalProperties: int },
        })] },
        totals: obj({
          hits: obj({ manifest: int, blob: int }), misses: obj({ manifest: int, blob: int }), upstreamBytes: int, servedBytes: int, errors: int, updatedAt: time,
        }, ['hits', 'misses', 'upstreamBytes', 'servedBytes', 'errors', 'updatedAt']),
      }),
      StorageTotal: obj({ totalBytes: int, blobs: int, projects: int, repositories: int }),
      ProjectUsageList: obj({ items: { type: 'array', items: ref('ProjectUsage') } }),
      ProjectUsage: obj({ project: str, repositories: int, totalBytes: int, uniqueBytes: int, sharedBytes: int }),
      System: obj({ version: str, node: str, storage: str, metadata: { enum: ['sqlite', 'postgres'] }, config: { type: 'object', description: 'In effect, every secret masked.' } }),
      Platform: platform,
      ReferrerCounts: obj({ total: int, signatures: int, sboms: int, attestations: int, byArtifactType: { type: 'object', additionalProperties: int } }),
      ArtifactSummary: obj(artifactSummaryProperties),
      ArtifactPage: page('ArtifactSummary'),
      HistoryEntry: obj({ created: nullable('string'), createdBy: nullable('string'), comment: nullable('string'), emptyLayer: { type: 'boolean' } }),
      Layer: obj({ digest: str, mediaType: str, sizeBytes: int, annotations: stringMap, urls: { type: 'array', items: str } }),
      Child: obj({
        digest: str, mediaType: str, artifactType: nullable('string'), sizeBytes: int,
        platform: { oneOf: [{ type: 'null' }, obj({ os: str, architecture: str, variant: str, osVersion: str }, ['os', 'architecture'])] },
        annotations: stringMap,
      }),
      ReferrerNode: obj({
        digest: str, mediaType: str, artifactType: nullable('string'), sizeBytes: int, pushedAt: time, annotations: stringMap,
        referrers: { type: 'array', items: ref('ReferrerNode') },
      }),
      AuditEntry: obj({ id: str, at: { type: 'string', format: 'date-time' }, actor: str, address: str, action: str, target: str, detail: { type: 'object', description: 'Facts of the action; values under credential-like keys masked.' } }),
      AuditPage: page('AuditEntry'),
      GcRunSummary: obj(gcRunSummary),
      GcRunPage: page('GcRunSummary'),
      GcRun: obj({
        ...gcRunSummary,
        report: obj({
          dryRun: { type: 'boolean' }, deleteUntagged: { type: 'boolean' }, graceMs: int, startedAt: str, durationMs: int,
          blobsSeen: int, blobsMarked: int, manifests: { type: 'array', items: linkRef }, blobs: { type: 'array', items: obj({ digest: str, size: int }) },
          bytes: int, layerLinks: { type: 'array', items: linkRef }, restored: { type: 'array', items: str }, recovered: int,
        }),
        truncated: { type: 'boolean', description: 'The report\'s lists were cut at 1,000 entries each (the counts are exact).' },
      }),
      DeadLetter: obj({
        endpoint: str, eventId: str, action: str, repository: nullable('string'), attempts: int, lastError: nullable('string'),
        createdAt: { type: 'string', format: 'date-time' }, deadAt: time, event: { type: 'object', description: 'The event as it would be sent (Distribution\'s envelope entry).' },
      }),
      DeadLetterPage: page('DeadLetter'),
      ArtifactDetail: obj({
        ...artifactSummaryProperties,
        repository: str,
        manifest: { type: 'object', description: 'The manifest as stored.' },
        config: { type: ['object', 'null'], description: 'The image config, when the artifact is an image (null for other artifacts and indexes).' },
        history: { type: 'array', items: ref('HistoryEntry') },
        layers: { type: 'array', items: ref('Layer') },
        children: { type: 'array', items: ref('Child') },
        referrerTree: { type: 'array', items: ref('ReferrerNode') },
        signatures: { type: 'array', items: ref('Signature'), description: 'cosign\'s .sig tag and the signature referrers, with the signer each names.' },
      }),
      Signature: obj({
        manifest: str, kind: { enum: ['cosign', 'sigstore-bundle', 'notation'] }, via: { enum: ['tag', 'referrers'] },
        signedWith: { enum: ['certificate', 'key', 'unknown'] },
        signer: nullable('string', { description: 'The certificate\'s subject (Notation) or subject alternative name (Sigstore, cosign), as the signature claims; null for a key.' }),
        issuer: nullable('string', { description: 'The OIDC issuer of a keyless certificate.' }),
        verified: nullable('boolean', { description: 'The trust policy\'s verdict on this signature; null when no policy covers the repository or it was not checked.' }),
        verdict: nullable('string'),
      }),
    },
  },
} as const;
