// Retention: per project, delete the tags a policy no longer wants. A tag is deleted when it
// fails a rule that is set (it is not among the `keeplast` most recently pushed tags of its
// repository, or it was last pushed longer ago than `deleteolderthan`) and nothing protects
// it (`keeptags`, `immutabletags`, which nothing may delete, or a pull of its manifest within
// `keeppulledwithin`). Tag age is when the tag was last pushed (its link's modification time).
// Pull times are the inventory's (src/inventory/recorder.ts: collected in memory, written in
// batches); a rule that needs them judges a tag whose pull times are unknown as kept. Only tags
// go: the manifests and blobs they leave untagged are the garbage collector's to reclaim.
import type { Registry } from '../registry/registry.js';
import type { TagState } from '../registry/maintenance.js';
import { projectOf } from './patterns.js';
import { rulesFor, type ProjectPolicy } from './policies.js';

/** Last pull time (ms) of each of `digests` in `repository` that was ever pulled. */
export type PullTimes = (repository: string, digests: string[]) => Promise<Map<string, number>>;

export interface RetentionDecision {
  repository: string;
  tag: string;
  digest: string;
  pushedAt: string;
  action: 'delete' | 'keep';
  reason: string;
  /** The rules that judged it: the project's ("team") or a repository glob's ("team/web/*"). */
  policy: string;
}

export interface RetentionReport {
  dryRun: boolean;
  decisions: RetentionDecision[];
  deleted: number;
}

export interface RetentionOptions {
  dryRun?: boolean;
  now?: () => number;
  /** Told of each tag once it is deleted (the audit log records it as done by `retention`). */
  onDeleted?: (decision: RetentionDecision) => Promise<void>;
  /** Where pull times come from (`keeppulledwithin`); without it such a rule keeps every tag. */
  pullTimes?: PullTimes;
}

export async function applyRetention(
  registry: Registry, policies: Map<string, ProjectPolicy>, options: RetentionOptions = {},
): Promise<RetentionReport> {
  const now = (options.now ?? Date.now)();
  const dryRun = options.dryRun ?? false;
  const decisions: RetentionDecision[] = [];
  let deleted = 0;
  for (const repository of await registry.catalog.names()) {
    const policy = policies.get(projectOf(repository));
    if (!policy) continue;
    const tags = await registry.maintenance.inventory.tags(repository);
    const pulls = await pullsFor(repository, tags, policy, options.pullTimes);
    for (const decision of decide(repository, tags, policy, now, pulls)) {
      decisions.push(decision);
      if (decision.action !== 'delete' || dryRun) continue;
      if (await untagIfUnchanged(registry, repository, decision.tag, tags.get(decision.tag)!)) {
        deleted++;
        await options.onDeleted?.(decision);
      } else decision.reason += '; skipped: pushed again meanwhile';
    }
  }
  return { dryRun, decisions, deleted };
}

/**
 * The pull times `repository`'s rules need: undefined when they need none, null when they need
 * them and nobody tracks pulls (no metadata database or listing index).
 */
export async function pullsFor(repository: string, tags: Map<string, TagState>, policy: ProjectPolicy, source: PullTimes | undefined): Promise<Map<string, number> | null | undefined> {
  if (rulesFor(policy, repository).keepPulledWithin <= 0) return undefined;
  if (!source) return null;
  return source(repository, [...new Set([...tags.values()].map((t) => t.digest))]);
}

/** `pulls`: last pull times by digest (see pullsFor). */
export function decide(repository: string, tags: Map<string, TagState>, policy: ProjectPolicy, now: number, pulls?: Map<string, number> | null): RetentionDecision[] {
  const rules = rulesFor(policy, repository);
  const newestFirst = [...tags].sort(([a, x], [b, y]) => y.modTime - x.modTime || a.localeCompare(b));
  return newestFirst.map(([tag, state], rank) => {
    const base = { repository, tag, digest: state.digest, pushedAt: new Date(state.modTime).toISOString(), policy: rules.name };
    const immutable = policy.immutable.match(tag);
    if (immutable) return { ...base, action: 'keep', reason: `immutable (rule "${immutable}")` };
    const keep = rules.keep.match(tag);
    if (keep) return { ...base, action: 'keep', reason: `matches keep pattern "${keep}"` };
    const failures: string[] = [];
    if (rules.keepLast !== undefined && rank >= rules.keepLast) failures.push(`not among the ${rules.keepLast} newest`);
    if (rules.deleteOlderThan > 0 && now - state.modTime > rules.deleteOlderThan) {
      failures.push(`older than ${hours(rules.deleteOlderThan)}`);
    }
    if (failures.length === 0) return { ...base, action: 'keep', reason: 'within the policy' };
    if (rules.keepPulledWithin > 0) {
      if (pulls === null || pulls === undefined) return { ...base, action: 'keep', reason: `${failures.join(', ')}, but pull times are not tracked here (keeppulledwithin needs the metadata database's listing index)` };
      const pulled = pulls.get(state.digest);
      if (pulled !== undefined && now - pulled <= rules.keepPulledWithin) {
        return { ...base, action: 'keep', reason: `pulled within ${hours(rules.keepPulledWithin)} (last ${new Date(pulled).toISOString()})` };
      }
      failures.push(pulled === undefined ? 'never pulled' : `last pulled ${new Date(pulled).toISOString()}`);
    }
    return { ...base, action: 'delete', reason: failures.join(', ') };
  });
}

function hours(ms: number): string {
  return `${Math.round(ms / 3_600_000)}h`;
}

/** Untags only if the tag still names what was judged (a push since then wins). */
async function untagIfUnchanged(registry: Registry, repository: string, tag: string, judged: TagState): Promise<boolean> {
  const now = await registry.maintenance.inventory.tag(repository, tag);
  if (now?.digest !== judged.digest || now.modTime !== judged.modTime) return false;
  return registry.tags.untag(repository, tag);
}
