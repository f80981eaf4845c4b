// The read API's answers, as TypeScript types. The OpenAPI document (src/http/read-api/openapi.ts)
// describes the same shapes, and the tests validate every answer against it.

export interface Page<T> {
  items: T[];
  /** Opaque: pass as `cursor` for the next page; null on the last page. */
  next: string | null;
}

export interface RepositorySummary {
  name: string;
  /** The first component of the name (access control's project). */
  project: string;
  /** Artifacts recorded in the repository (index children and referrers included). */
  artifacts: number;
  tags: number;
  /** Deduplicated compressed bytes its artifacts reference. */
  sizeBytes: number;
  lastPushAt: string | null;
}

export interface PlatformSummary {
  os: string;
  architecture: string;
  variant?: string;
  osVersion?: string;
  digest: string;
  sizeBytes: number;
}

export interface ReferrerCounts {
  total: number;
  signatures: number;
  sboms: number;
  attestations: number;
  byArtifactType: Record<string, number>;
}

export interface ArtifactSummary {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  kind: 'image' | 'index' | 'other';
  sizeBytes: number;
  platforms: PlatformSummary[];
  created: string | null;
  pushedAt: string | null;
  lastPulledAt: string | null;
  tags: string[];
  subject: string | null;
  referrers: ReferrerCounts;
  annotations: Record<string, string>;
}

export interface HistoryEntry {
  created: string | null;
  createdBy: string | null;
  comment: string | null;
  emptyLayer: boolean;
}

export interface LayerSummary {
  digest: string;
  mediaType: string;
  sizeBytes: number;
  annotations: Record<string, string>;
  urls: string[];
}

export interface ChildSummary {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  sizeBytes: number;
  platform: { os: string; architecture: string; variant?: string; osVersion?: string } | null;
  annotations: Record<string, string>;
}

export interface ReferrerNode {
  digest: string;
  mediaType: string;
  artifactType: string | null;
  sizeBytes: number;
  pushedAt: string | null;
  annotations: Record<string, string>;
  referrers: ReferrerNode[];
}

export interface ArtifactDetail extends ArtifactSummary {
  repository: string;
  manifest: unknown;
  config: unknown;
  history: HistoryEntry[];
  layers: LayerSummary[];
  children: ChildSummary[];
  referrerTree: ReferrerNode[];
}
