// GET /api/v1/retention/<project>: a dry run of the project's retention and immutability rules,
// the configured ones (gc.retention.projects.<project>) or a draft given in the query, with what
// they would untag and what the collector would then free. Nothing is changed: the policy
// itself lives in config.yml, and the console shows the YAML to put there.
import type { FastifyRequest } from 'fastify';
import type { Config } from '../../config/schema.js';
import { parseDuration } from '../../config/duration.js';
import { compilePolicies, type ProjectPolicyConfig } from '../../policy/policies.js';
import { decide, pullsFor, type RetentionDecision } from '../../policy/retention.js';
import { projectOf } from '../../policy/patterns.js';
import { previewDeletion, UnknownManifestError } from '../../meta/deletion-preview.js';
import type { Inventory } from '../../inventory/inventory.js';
import { QueryReader, invalid } from './query.js';

export interface RetentionPreview {
  project: string;
  /** Whether config.yml has a policy for the project. */
  configured: boolean;
  /** The rules judged (the draft when one was given). */
  policy: { keeplast: number | null; keeptags: string[]; deleteolderthan: number | null; keeppulledwithin: number | null; immutabletags: string[]; repositories: string[] };
  decisions: RetentionDecision[];
  /** Tags the rules would untag. */
  deletes: number;
  /** Manifests left without any tag, and what collecting them (gc.untagged: delete or --delete-untagged) frees; null when the reference tables do not know them all. */
  untaggedManifests: number;
  freedBytes: number | null;
}

const DRAFT = ['keeplast', 'keeptags', 'deleteolderthan', 'keeppulledwithin', 'immutabletags'];

export async function retentionPreview(req: FastifyRequest, inventory: Inventory, project: string): Promise<RetentionPreview> {
  const q = new QueryReader(req, DRAFT);
  if (project === '' || project.includes('/')) throw invalid('project', 'the project must be one name component, such as "team"');
  // The configuration as the system page shows it: retention rules hold no secret.
  const configured = (inventory.system.config as Partial<Config>).gc?.retention?.projects?.[project];
  const draft = DRAFT.some((k) => q.text(k) !== undefined) ? draftOf(q) : undefined;
  const rules: ProjectPolicyConfig = draft ?? configured ?? {};
  const policy = compilePolicies({ [project]: rules }).get(project)!;
  // Pulls of the last seconds are still in this replica's memory (written in batches): written
  // first, they count for "pulled within", as in a scheduled retention run.
  await inventory.recorder.flush();
  const now = Date.now();
  const decisions: RetentionDecision[] = [];
  let untagged = 0;
  let freed: number | null = 0;
  for (const repository of (await inventory.core.catalog.names()).filter((n) => projectOf(n) === project)) {
    const tags = await inventory.core.maintenance.inventory.tags(repository);
    const judged = decide(repository, tags, policy, now, await pullsFor(repository, tags, policy, (r, d) => inventory.book.lastPulled(r, d)));
    decisions.push(...judged);
    const kept = new Set(judged.filter((d) => d.action === 'keep').map((d) => d.digest));
    const losing = [...new Set(judged.filter((d) => d.action === 'delete' && !kept.has(d.digest)).map((d) => d.digest))];
    untagged += losing.length;
    if (losing.length === 0 || freed === null) continue;
    try {
      freed += (await previewDeletion(inventory.db, repository, losing)).untagged.freedBytes;
    } catch (err) {
      if (!(err instanceof UnknownManifestError)) throw err;
      freed = null;
    }
  }
  return {
    project, configured: configured !== undefined,
    policy: {
      keeplast: rules.keeplast ?? null, keeptags: rules.keeptags ?? [], deleteolderthan: rules.deleteolderthan ?? null,
      keeppulledwithin: rules.keeppulledwithin ?? null, immutabletags: rules.immutabletags ?? [], repositories: Object.keys(rules.repositories ?? {}),
    },
    decisions, deletes: decisions.filter((d) => d.action === 'delete').length, untaggedManifests: untagged, freedBytes: freed,
  };
}

function draftOf(q: QueryReader): ProjectPolicyConfig {
  const list = (key: string) => (q.text(key, 4096) ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  const keeplast = q.text('keeplast');
  const draft: ProjectPolicyConfig = { keeptags: list('keeptags'), immutabletags: list('immutabletags') };
  if (keeplast !== undefined && keeplast !== '') {
    const n = Number(keeplast);
    if (!Number.isInteger(n) || n < 0) throw invalid('keeplast', '"keeplast" must be a whole number, 0 or more');
    draft.keeplast = n;
  }
  for (const key of ['deleteolderthan', 'keeppulledwithin'] as const) {
    const text = q.text(key);
    if (text === undefined || text === '') continue;
    try {
      draft[key] = parseDuration(text);
    } catch {
      throw invalid(key, `"${key}" must be a duration such as 720h`);
    }
  }
  return draft;
}
