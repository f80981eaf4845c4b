// What the pages read, in the read API's shapes (/api/v1, src/inventory/shapes.ts on the server),
// and the changes they make through the registry and admin APIs.
import { useCallback, useEffect, useState } from 'preact/hooks';
import { apiPath, call, namePath, v2Path } from './api.js';

export interface Page<T> { items: T[]; next: string | null }

export interface RepositorySummary {
  name: string; project: string; artifacts: number; tags: number; sizeBytes: number; lastPushAt: string | null;
}

export interface Platform { os: string; architecture: string; variant?: string; osVersion?: string; digest: string; sizeBytes: number }

export interface ReferrerCounts { total: number; signatures: number; sboms: number; attestations: number; byArtifactType: Record<string, number> }

export interface ArtifactSummary {
  digest: string; mediaType: string; artifactType: string | null; kind: 'image' | 'index' | 'other'; sizeBytes: number;
  platforms: Platform[]; created: string | null; pushedAt: string | null; lastPulledAt: string | null; tags: string[];
  subject: string | null; referrers: ReferrerCounts; annotations: Record<string, string>;
}

export interface HistoryEntry { created: string | null; createdBy: string | null; comment: string | null; emptyLayer: boolean }
export interface Layer { digest: string; mediaType: string; sizeBytes: number; annotations: Record<string, string>; urls: string[] }
export interface Child {
  digest: string; mediaType: string; artifactType: string | null; sizeBytes: number;
  platform: { os: string; architecture: string; variant?: string } | null; annotations: Record<string, string>;
}
export interface ReferrerNode {
  digest: string; mediaType: string; artifactType: string | null; sizeBytes: number; pushedAt: string | null;
  annotations: Record<string, string>; referrers: ReferrerNode[];
}
export interface SignatureSummary {
  manifest: string; kind: 'cosign' | 'sigstore-bundle' | 'notation'; via: 'tag' | 'referrers'; signedWith: 'certificate' | 'key' | 'unknown';
  signer: string | null; issuer: string | null; verified: boolean | null; verdict: string | null;
}
export interface ArtifactDetail extends ArtifactSummary {
  repository: string; manifest: unknown; config: unknown; history: HistoryEntry[]; layers: Layer[]; children: Child[]; referrerTree: ReferrerNode[];
  /** cosign's .sig tag and the signature referrers, with the signer each names (src/trust/signature-summary.ts). */
  signatures: SignatureSummary[];
}

export interface AuditEntry { id: string; at: string; actor: string; address: string; action: string; target: string; detail: Record<string, unknown> }
/** The audit log's filters as /api/v1/audit/entries takes them (times as ISO, since inclusive, until exclusive). */
export interface AuditFilter { actor?: string; action?: string; repository?: string; since?: string; until?: string }
export interface DeadLetter {
  endpoint: string; eventId: string; action: string; repository: string | null; attempts: number; lastError: string | null;
  createdAt: string; deadAt: string | null; event: unknown;
}
export interface User { name: string; admin: boolean; createdAt: string }
export interface Project { name: string; public: boolean; allowFrom: string[]; createdAt: string }
export interface Member { project: string; user: string; role: string }
export interface Robot { name: string; permissions: Array<{ project: string; actions: string[] }>; expiresAt: string | null; createdAt: string }

export interface DeletionPreview { repository: string; manifests: string[]; totalBytes: number; freedBytes: number; untagged: { manifests: string[]; totalBytes: number; freedBytes: number } }
export interface StorageTotal { totalBytes: number; blobs: number; projects: number; repositories: number }
export interface ProjectUsage { project: string; repositories: number; totalBytes: number; uniqueBytes: number; sharedBytes: number }

export interface UpstreamReport {
  name: string; remoteurl: string; prefix: string | null; namespaces: string[]; ttlMs: number; maxBytes: number; maxAgeMs: number;
  breaker: 'closed' | 'open' | 'half-open';
  cache: { manifests: number; blobs: number; bytes: number; tags: number; lastPulledAt: string | null };
  traffic: { hits: { manifest: number; blob: number }; misses: { manifest: number; blob: number }; upstreamBytes: number; servedBytes: number; errors: Record<string, number> } | null;
  /** Every replica's counts (the metadata database's rows, added to every 2 s), since the database first counted. */
  totals: { hits: { manifest: number; blob: number }; misses: { manifest: number; blob: number }; upstreamBytes: number; servedBytes: number; errors: number; updatedAt: string | null };
}

export interface RetentionDraft { keeplast?: string; keeptags?: string; deleteolderthan?: string; immutabletags?: string }
export interface RetentionPreview {
  project: string; configured: boolean;
  policy: { keeplast: number | null; keeptags: string[]; deleteolderthan: number | null; immutabletags: string[] };
  decisions: Array<{ repository: string; tag: string; digest: string; pushedAt: string; action: 'delete' | 'keep'; reason: string }>;
  deletes: number; untaggedManifests: number; freedBytes: number | null;
}

export interface AccessToken {
  id: string; owner: string; name: string; scopes: Array<{ project: string; actions: string[] }>;
  expiresAt: string | null; createdAt: string; lastUsedAt: string | null; revokedAt: string | null;
}

export interface GcRunSummary {
  id: string; trigger: 'schedule' | 'api' | 'cli' | 'eviction'; actor: string | null; startedAt: string;
  durationMs: number; dryRun: boolean; blobs: number; bytes: number; manifests: number; layerLinks: number;
}

/** A trust policy as /api/v1/trust/policies lists it: config.yml's (read-only here) or stored through the API. */
export interface TrustPolicyView {
  name: string; origin: 'config' | 'api'; mode: string; repositories: string[]; exempt: string[]; satisfiedBy: string;
  upstreams: string[]; body?: Record<string, unknown>; updatedAt?: string;
}

export const read = {
  repositories: (q: { q?: string; project?: string; sort?: string; order?: string; limit?: number; cursor?: string }) =>
    call<Page<RepositorySummary>>(apiPath('/repositories'), { query: q }),
  repository: (name: string) => call<RepositorySummary>(apiPath(`/repositories/${namePath(name)}`)),
  artifacts: (name: string, q: { tag?: string; sort?: string; order?: string; limit?: number; cursor?: string; tagged?: boolean }) =>
    call<Page<ArtifactSummary>>(apiPath(`/repositories/${namePath(name)}/-/artifacts`), { query: q }),
  artifact: (name: string, reference: string) => call<ArtifactDetail>(apiPath(`/repositories/${namePath(name)}/-/artifacts/${encodeURIComponent(reference)}`)),
  deletion: (name: string, digests: string[]) => call<DeletionPreview>(apiPath(`/repositories/${namePath(name)}/-/deletion`), { query: { digests: digests.join(',') } }),
  retention: (project: string, draft?: RetentionDraft) => call<RetentionPreview>(apiPath(`/retention/${encodeURIComponent(project)}`), draft ? { query: { ...draft } } : {}),
  upstreams: () => call<{ items: UpstreamReport[] }>(apiPath('/upstreams')),
  gcRuns: () => call<Page<GcRunSummary>>(apiPath('/gc/runs'), { query: { limit: 20 } }),
  tokens: () => call<AccessToken[]>(apiPath('/user/tokens')),
  storage: () => call<StorageTotal>(apiPath('/usage')),
  projectUsage: () => call<{ items: ProjectUsage[] }>(apiPath('/usage/projects')),
  audit: (q: AuditFilter & { limit?: number; cursor?: string }) => call<Page<AuditEntry>>(apiPath('/audit/entries'), { query: { ...q } }),
  users: () => call<User[]>(apiPath('/users')),
  projects: () => call<Project[]>(apiPath('/projects')),
  members: (project: string) => call<Member[]>(apiPath(`/projects/${encodeURIComponent(project)}/members`)),
  robots: () => call<Robot[]>(apiPath('/robots')),
  deadLetters: (q: { endpoint?: string; limit?: number; cursor?: string }) => call<Page<DeadLetter>>(apiPath('/notifications/deadletters/entries'), { query: q }),
  trustPolicies: () => call<TrustPolicyView[]>(apiPath('/trust/policies')),
};

/** The CSV download of every audit entry `filter` matches (a plain link: the session cookie goes with it). */
export function auditCsvUrl(filter: AuditFilter): string {
  const query = new URLSearchParams(Object.entries(filter).filter(([, v]) => v !== undefined && v !== '') as Array<[string, string]>).toString();
  return `${apiPath('/audit/entries.csv')}${query ? `?${query}` : ''}`;
}

export const change = {
  deleteManifest: (name: string, digest: string) => call<void>(v2Path(`/${namePath(name)}/manifests/${digest}`), { method: 'DELETE' }),
  addUser: (name: string, password: string, admin: boolean) => call<User>(apiPath('/users'), { method: 'POST', body: { name, password, admin } }),
  removeUser: (name: string) => call<void>(apiPath(`/users/${encodeURIComponent(name)}`), { method: 'DELETE' }),
  addProject: (name: string, isPublic: boolean) => call<Project>(apiPath('/projects'), { method: 'POST', body: { name, public: isPublic } }),
  setProject: (name: string, isPublic: boolean) => call<Project>(apiPath(`/projects/${encodeURIComponent(name)}`), { method: 'PATCH', body: { public: isPublic } }),
  setMember: (project: string, user: string, role: string | null) => role === null
    ? call<void>(apiPath(`/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(user)}`), { method: 'DELETE' })
    : call<void>(apiPath(`/projects/${encodeURIComponent(project)}/members/${encodeURIComponent(user)}`), { method: 'PUT', body: { role } }),
  addRobot: (name: string, project: string, actions: string[]) =>
    call<Robot & { secret: string }>(apiPath('/robots'), { method: 'POST', body: { name, permissions: [{ project, actions }] } }),
  removeRobot: (name: string) => call<void>(apiPath(`/robots/${encodeURIComponent(name)}`), { method: 'DELETE' }),
  addToken: (name: string, scopes: Array<{ project: string; actions: string[] }>, expiresIn: string | undefined) =>
    call<AccessToken & { token: string }>(apiPath('/user/tokens'), { method: 'POST', body: { name, scopes, ...(expiresIn ? { expiresIn } : {}) } }),
  revokeToken: (id: string) => call<void>(apiPath(`/user/tokens/${encodeURIComponent(id)}`), { method: 'DELETE' }),
  gc: (dryRun: boolean) => call<Record<string, unknown>>(apiPath('/gc'), { method: 'POST', body: { dryRun } }),
  putTrustPolicy: (name: string, body: Record<string, unknown>) => call<TrustPolicyView>(apiPath(`/trust/policies/${encodeURIComponent(name)}`), { method: 'PUT', body }),
  removeTrustPolicy: (name: string) => call<void>(apiPath(`/trust/policies/${encodeURIComponent(name)}`), { method: 'DELETE' }),
  requeue: (endpoint?: string) => call<{ requeued: number }>(apiPath('/notifications/deadletters/requeue'), { method: 'POST', body: endpoint ? { endpoint } : {} }),
};

export interface Loaded<T> { data: T | undefined; error: Error | undefined; loading: boolean; reload: () => void }

/** Loads `fetcher()` whenever `key` changes; `reload` loads again. */
export function useLoad<T>(fetcher: () => Promise<T>, key: string): Loaded<T> {
  const [state, setState] = useState<{ data: T | undefined; error: Error | undefined; loading: boolean }>({ data: undefined, error: undefined, loading: true });
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    setState((s) => ({ ...s, loading: true }));
    fetcher().then((data) => { if (live) setState({ data, error: undefined, loading: false }); },
      (error: Error) => { if (live) setState({ data: undefined, error, loading: false }); });
    return () => { live = false; };
  }, [key, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { ...state, reload };
}
