// Retention: per project, delete the tags a policy no longer wants. A tag is deleted when it
// fails a rule that is set (it is not among the `keeplast` most recently pushed tags of its
// repository, or it was last pushed longer ago than `deleteolderthan`) and no pattern protects
// it (`keeptags`, or `immutabletags`, which nothing may delete). Tag age is when the tag was
// last pushed (its link's modification time). Only tags go: the manifests and blobs they
// leave untagged are the garbage collector's to reclaim (with --delete-untagged).
import type { Registry } from '../registry/registry.js';
import type { TagState } from '../registry/maintenance.js';
import { projectOf } from './patterns.js';
import type { ProjectPolicy } from './policies.js';

export interface RetentionDecision {
  repository: string;
  tag: string;
  digest: string;
  pushedAt: string;
  action: 'delete' | 'keep';
  reason: string;
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
    for (const decision of decide(repository, tags, policy, now)) {
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

export function decide(repository: string, tags: Map<string, TagState>, policy: ProjectPolicy, now: number): RetentionDecision[] {
  const newestFirst = [...tags].sort(([a, x], [b, y]) => y.modTime - x.modTime || a.localeCompare(b));
  return newestFirst.map(([tag, state], rank) => {
    const base = { repository, tag, digest: state.digest, pushedAt: new Date(state.modTime).toISOString() };
    const immutable = policy.immutable.match(tag);
    if (immutable) return { ...base, action: 'keep', reason: `immutable (rule "${immutable}")` };
    const keep = policy.keep.match(tag);
    if (keep) return { ...base, action: 'keep', reason: `matches keep pattern "${keep}"` };
    const failures: string[] = [];
    if (policy.keepLast !== undefined && rank >= policy.keepLast) failures.push(`not among the ${policy.keepLast} newest`);
    if (policy.deleteOlderThan > 0 && now - state.modTime > policy.deleteOlderThan) {
      failures.push(`older than ${Math.round(policy.deleteOlderThan / 3_600_000)}h`);
    }
    if (failures.length > 0) return { ...base, action: 'delete', reason: failures.join(', ') };
    return { ...base, action: 'keep', reason: 'within the policy' };
  });
}

/** Untags only if the tag still names what was judged (a push since then wins). */
async function untagIfUnchanged(registry: Registry, repository: string, tag: string, judged: TagState): Promise<boolean> {
  const now = await registry.maintenance.inventory.tag(repository, tag);
  if (now?.digest !== judged.digest || now.modTime !== judged.modTime) return false;
  return registry.tags.untag(repository, tag);
}
