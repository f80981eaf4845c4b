// Per-project tag rules from the `gc.retention.projects` config section, compiled once.
import { TagPatterns } from './patterns.js';

export interface ProjectPolicyConfig {
  keeplast?: number | undefined;
  keeptags?: string[] | undefined;
  /** ms (resolved by the configuration loader). */
  deleteolderthan?: number | undefined;
  immutabletags?: string[] | undefined;
}

export interface ProjectPolicy {
  project: string;
  keepLast: number | undefined;
  keep: TagPatterns;
  /** ms; 0 = no age rule. */
  deleteOlderThan: number;
  immutable: TagPatterns;
}

export function compilePolicies(projects: Record<string, ProjectPolicyConfig>): Map<string, ProjectPolicy> {
  const out = new Map<string, ProjectPolicy>();
  for (const [project, p] of Object.entries(projects)) {
    out.set(project, {
      project,
      keepLast: p.keeplast,
      keep: new TagPatterns(p.keeptags ?? []),
      deleteOlderThan: p.deleteolderthan ?? 0,
      immutable: new TagPatterns(p.immutabletags ?? []),
    });
  }
  return out;
}
