// `gc`: Berth's online garbage collector (src/gc), its schedule, and per-project retention and
// immutable-tag rules (until projects live in the metadata database). Project = the first path
// component of a repository name. Patterns are globs over tag names: `*` (any run of
// characters), `?` (one character), `{a,b}` (alternatives).
import { Type } from '@sinclair/typebox';
import { millis, strict } from './common.js';

// Defaults of record values are not filled in by the loader: every key is optional instead.
const retentionRules = {
  /** Keep the N most recently pushed tags of each repository. */
  keeplast: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Tags matching any of these are always kept. */
  keeptags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /** Delete tags last pushed longer ago than this ("720h"); "0" disables. */
  deleteolderthan: Type.Optional(millis('0')),
  /**
   * Keep a tag the other rules would delete when its manifest was pulled within this long
   * ("720h"; "0" disables). Pull times are those `berth serve` records (batched, every 2 s) in
   * the metadata database; they need the listing index (meta.index.enabled).
   */
  keeppulledwithin: Type.Optional(millis('0')),
};

const ProjectPolicy = Type.Object({
  ...retentionRules,
  /** Tags matching any of these can be neither overwritten by a push nor deleted. */
  immutabletags: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
  /**
   * Rules for repositories of the project, by glob over the name after "<project>/" ("web/*",
   * "tools/ci"): the most specific matching glob (most literal characters, then fewest
   * wildcards, then the first written) judges the repository; what it leaves unset comes from
   * the project's rules above. Immutable tags stay per project.
   */
  repositories: Type.Optional(Type.Record(Type.String({ minLength: 1 }), Type.Object(retentionRules, strict))),
}, strict);

export const GcSection = Type.Object({
  /** Run the collector this often inside `berth serve`; "0" (default) is off. */
  interval: millis('0'),
  /** Content younger than this is never collected (pushes in flight). */
  grace: millis('1h'),
  deleteuntagged: Type.Boolean({ default: false }),
  /**
   * The collector over the metadata database (src/gc/review-worker.ts): what may have become
   * unreferenced waits `grace` in a review queue, then a worker re-checks it and deletes it;
   * workers look every `interval` ("0": off; the walking collector above stays either way).
   */
  review: Type.Object({
    grace: millis('24h'),
    interval: millis('1m'),
    /** How long a claimed row stays with its worker; a worker that died leaves it due again after this. */
    lease: millis('10m'),
    /**
     * How long what a push wrote before naming it (a blob uploaded or mounted, a manifest) waits
     * for a manifest, tag or index to name it before its review (it goes if none did). Its own
     * setting, not `grace`: a short `grace` must not collect a push's blobs before its manifest.
     */
    upload: millis('24h'),
  }, { ...strict, default: {} }),
  /**
   * The reconciler (src/gc/reconcile.ts, `berth gc --reconcile`): a storage walk every `interval`
   * ("0", the default: only when run by hand) that removes objects the database does not know
   * about once they stayed unknown for `grace`, and reports database rows whose storage is gone.
   */
  reconcile: Type.Object({
    interval: millis('0'),
    grace: millis('168h'),
  }, { ...strict, default: {} }),
  /** How long a deleted (or moved) tag can be restored (`berth tag restore`); its manifest is kept meanwhile. "0": off. */
  tagrestore: millis('168h'),
  /** Untagged manifests nothing keeps (no tag, kept index, or kept subject): `delete` after the review grace, or `keep`. */
  untagged: Type.Union([Type.Literal('keep'), Type.Literal('delete')], { default: 'keep' }),
  /** Projects whose untagged manifests are kept whatever `untagged` says. */
  keepuntagged: Type.Array(Type.String({ minLength: 1 }), { default: [] }),
  dryrun: Type.Boolean({ default: false }),
  retention: Type.Object({
    /** Evaluate the retention policies this often inside `berth serve`; "0" is off. */
    interval: millis('0'),
    dryrun: Type.Boolean({ default: false }),
    projects: Type.Record(Type.String(), ProjectPolicy, { default: {} }),
  }, { ...strict, default: {} }),
}, { ...strict, default: {} });

type WrittenRules = { keeppulledwithin?: string | undefined };

/** What makes the retention rules wrong beyond their shape: pull rules where no pull times are kept, bad globs. */
export function retentionConfigProblems(projects: Record<string, WrittenRules & { repositories?: Record<string, WrittenRules> | undefined }>, listingIndex: boolean): string[] {
  const problems: string[] = [];
  const pullRule = (key: string, r: WrittenRules) => {
    if (!listingIndex && r.keeppulledwithin !== undefined && r.keeppulledwithin !== '0') {
      problems.push(`${key}.keeppulledwithin: pull times are kept with the listing index; set meta.index.enabled: true or remove the rule`);
    }
  };
  for (const [project, p] of Object.entries(projects)) {
    const key = `gc.retention.projects.${project}`;
    pullRule(key, p);
    for (const [glob, r] of Object.entries(p.repositories ?? {})) {
      pullRule(`${key}.repositories.${glob}`, r);
      // As src/policy/patterns.ts reads globs (config imports nothing of it).
      if (/\{[^}]*$/.test(glob)) problems.push(`${key}.repositories: unclosed "{" in "${glob}"`);
    }
  }
  return problems;
}
