// Per-project tag rules from the `gc.retention.projects` config section, compiled once. A
// project's policy may carry rules for repository globs inside it (`repositories`, names after
// "<project>/"): the most specific matching glob's rules judge a repository, each rule it leaves
// unset inherited from the project. Immutable tags stay per project (the push path's guard).
import { globToRegExp, TagPatterns } from './patterns.js';

export interface RetentionRulesConfig {
  keeplast?: number | undefined;
  keeptags?: string[] | undefined;
  /** ms (resolved by the configuration loader). */
  deleteolderthan?: number | undefined;
  /** ms: keep tags whose manifest was pulled within this long (resolved by the loader). */
  keeppulledwithin?: number | undefined;
}

export interface ProjectPolicyConfig extends RetentionRulesConfig {
  immutabletags?: string[] | undefined;
  repositories?: Record<string, RetentionRulesConfig> | undefined;
}

/** The retention rules judging one repository's tags. */
export interface RetentionRules {
  /** Which rules these are: the project ("team") or a repository glob within it ("team/web/*"). */
  name: string;
  keepLast: number | undefined;
  keep: TagPatterns;
  /** ms; 0 = no age rule. */
  deleteOlderThan: number;
  /** ms; 0 = no pull rule. */
  keepPulledWithin: number;
}

interface RepositoryRules {
  re: RegExp;
  /** Literal characters of the glob: the more, the more specific (then the fewer wildcards). */
  literal: number;
  wild: number;
  rules: RetentionRules;
}

export interface ProjectPolicy extends RetentionRules {
  project: string;
  immutable: TagPatterns;
  /** Most specific first. */
  repositories: RepositoryRules[];
}

export function compilePolicies(projects: Record<string, ProjectPolicyConfig>): Map<string, ProjectPolicy> {
  const out = new Map<string, ProjectPolicy>();
  for (const [project, p] of Object.entries(projects)) {
    const base: RetentionRules = {
      name: project,
      keepLast: p.keeplast,
      keep: new TagPatterns(p.keeptags ?? []),
      deleteOlderThan: p.deleteolderthan ?? 0,
      keepPulledWithin: p.keeppulledwithin ?? 0,
    };
    const repositories = Object.entries(p.repositories ?? {}).map(([glob, r], order) => ({
      re: globToRegExp(glob),
      literal: glob.replace(/[*?{},]/g, '').length,
      wild: glob.replace(/[^*?]/g, '').length,
      order,
      rules: {
        name: `${project}/${glob}`,
        keepLast: r.keeplast !== undefined ? r.keeplast : base.keepLast,
        keep: r.keeptags !== undefined ? new TagPatterns(r.keeptags) : base.keep,
        deleteOlderThan: r.deleteolderthan ?? base.deleteOlderThan,
        keepPulledWithin: r.keeppulledwithin ?? base.keepPulledWithin,
      },
    })).sort((a, b) => b.literal - a.literal || a.wild - b.wild || a.order - b.order);
    out.set(project, { ...base, project, immutable: new TagPatterns(p.immutabletags ?? []), repositories });
  }
  return out;
}

/** The rules judging `repository` of `policy`'s project: its most specific repository glob's, else the project's. */
export function rulesFor(policy: ProjectPolicy, repository: string): RetentionRules {
  const inside = repository.startsWith(`${policy.project}/`) ? repository.slice(policy.project.length + 1) : '';
  return policy.repositories.find((r) => r.re.test(inside))?.rules ?? policy;
}

/** Whether some rule of these policies keeps tags by pull time (which needs the inventory's pull times). */
export function usesPullTimes(policies: Map<string, ProjectPolicy>): boolean {
  return [...policies.values()].some((p) => p.keepPulledWithin > 0 || p.repositories.some((r) => r.rules.keepPulledWithin > 0));
}
