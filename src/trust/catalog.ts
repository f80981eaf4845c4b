// Every trust policy in force: config.yml's (fixed while the process runs: `trust.policies` and
// the trustpolicy.json statements) and those added through the admin API or `berth trust policy`,
// kept in the metadata database with their keys and certificates as PEM text. A stored policy is
// checked by config.yml's rules and its material parsed before it is kept.
// Every guarded manifest read asks which policy covers it, so the compiled policies are kept, and
// kept only while the table's stamp (row count and latest change) is the one they were read under:
// a policy the CLI or another replica stored governs the very next pull, not one a cache period
// later (the replication catalog's lesson, commit 4895f0d).
import type { Kysely } from 'kysely';
import { Value } from '@sinclair/typebox/value';
import type { MetaTables } from '../meta/tables/index.js';
import { tableStamp } from '../meta/table-stamp.js';
import { ConfigError } from '../config/load.js';
import { TrustPolicyBodySchema, trustPolicyBodyProblems, type TrustPolicyBody } from '../config/sections/trust.js';
import { TrustCatalogError } from './catalog-error.js';
import { globToRegExp } from '../policy/patterns.js';
import { storedPolicy, type TrustPolicies, type TrustPolicy } from './policies.js';

export { TrustCatalogError };

export interface TrustPolicyView {
  name: string;
  origin: 'config' | 'api';
  mode: string;
  repositories: string[];
  exempt: string[];
  satisfiedBy: string;
  /** The pull-through upstreams whose `verify:` names this policy. */
  upstreams: string[];
  /** A stored policy's body as it was sent (PEM included: public material only). */
  body?: TrustPolicyBody;
  updatedAt?: string;
}

export interface TrustCatalogOptions {
  /** Without a metadata database there are only config.yml's policies. */
  db: Kysely<MetaTables> | undefined;
  base: TrustPolicies;
  /** Upstream name → the policy its `verify:` names. */
  verifies: { upstream: string; policy: string }[];
  /** Told the names of policies changed or removed, so their cached verdicts are dropped. */
  changed(names: string[]): void;
  warn(message: string, detail?: Record<string, unknown>): void;
}

/** A stored policy's body, checked: the shape (unknown keys refused), globs, then its material. */
export function checkedPolicyBody(body: unknown, where = 'policy'): { body: TrustPolicyBody; policy: TrustPolicy } {
  const value = Value.Default(TrustPolicyBodySchema, Value.Clone(body ?? {}));
  const errors = [...Value.Errors(TrustPolicyBodySchema, value)].map((e) => `${where}${e.path.replace(/\//g, '.')}: ${e.message}`);
  if (errors.length > 0) throw new TrustCatalogError('INVALID', errors.join('; '));
  const checked = value as TrustPolicyBody;
  const problems = trustPolicyBodyProblems(checked, where);
  if (problems.length > 0) throw new TrustCatalogError('INVALID', problems.join('; '));
  try {
    return { body: checked, policy: storedPolicy(checked, where) };
  } catch (err) {
    if (err instanceof ConfigError) throw new TrustCatalogError('INVALID', err.problems.join('; '));
    throw err;
  }
}

export class TrustCatalog {
  readonly #db: Kysely<MetaTables> | undefined;
  readonly #base: TrustPolicies;
  readonly #options: TrustCatalogOptions;
  #cache: { stamp: string; policies: TrustPolicies; stored: Map<string, TrustPolicy> } | undefined;
  /** The bodies the last read found, to tell which policies a change touched. */
  #bodies = new Map<string, string>();

  constructor(options: TrustCatalogOptions) {
    this.#db = options.db;
    this.#base = options.base;
    this.#options = options;
  }

  /** config.yml's policies alone (an upstream's `verify:` names one of these). */
  get configured(): TrustPolicies {
    return this.#base;
  }

  get editable(): boolean {
    return this.#db !== undefined;
  }

  /** The policies in force now: config.yml's, then the stored ones (by name). */
  async current(): Promise<TrustPolicies> {
    if (!this.#db) return this.#base;
    // The stamp is read before the rows: a change between the two leaves a stale stamp, which
    // only makes the next call read again.
    const stamp = await tableStamp(this.#db, 'trust_policies');
    if (this.#cache?.stamp === stamp) return this.#cache.policies;
    const rows = await this.#db.selectFrom('trust_policies').select(['name', 'body']).orderBy('name').execute();
    const stored = new Map<string, TrustPolicy>();
    for (const row of rows) {
      try {
        // Kept from the last read when the body is the same: the keys are parsed once.
        const known = this.#bodies.get(row.name) === row.body ? this.#cache?.stored.get(row.name) : undefined;
        stored.set(row.name, known ?? checkedPolicyBody(JSON.parse(row.body), `trust policy "${row.name}"`).policy);
      } catch (err) {
        // Checked when stored; only a later, stricter Berth could refuse it here. One bad row
        // must not stop every pull, nor open what it guarded: its repositories are refused,
        // loudly, until it is fixed or removed.
        this.#options.warn('trust: a stored policy cannot be read; the repositories it covers are refused until it is fixed or removed', { policy: row.name, err: (err as Error).message });
        const closed = unreadablePolicy(row.name, row.body, (err as Error).message);
        if (closed) stored.set(row.name, closed);
      }
    }
    const bodies = new Map(rows.map((r) => [r.name, r.body]));
    const touched = [...new Set([...this.#bodies.keys(), ...bodies.keys()])].filter((n) => this.#bodies.get(n) !== bodies.get(n));
    this.#bodies = bodies;
    if (touched.length > 0) this.#options.changed(touched);
    const policies = this.#base.withStored([...stored.values()]);
    this.#cache = { stamp, policies, stored };
    return policies;
  }

  async views(): Promise<TrustPolicyView[]> {
    const upstreams = (name: string) => this.#options.verifies.filter((v) => v.policy === name).map((v) => v.upstream);
    const views: TrustPolicyView[] = this.#base.all.map((p) => ({
      name: p.name, origin: 'config', mode: p.mode, repositories: p.repositories, exempt: [...p.exempt], satisfiedBy: p.satisfiedBy, upstreams: upstreams(p.name),
    }));
    if (!this.#db) return views;
    const current = await this.current();
    const rows = await this.#db.selectFrom('trust_policies').selectAll().orderBy('name').execute();
    for (const row of rows) {
      const body = JSON.parse(row.body) as TrustPolicyBody;
      const p = current.named(row.name);
      views.push({
        name: row.name, origin: 'api', mode: body.mode, repositories: body.repositories, exempt: body.exempt,
        satisfiedBy: p?.satisfiedBy ?? 'nothing: the stored policy is not in force (see the log)', upstreams: upstreams(row.name),
        body, updatedAt: new Date(Number(row.updated_at)).toISOString(),
      });
    }
    return views;
  }

  /** Adds or replaces a stored policy, checked as config.yml's are; a config.yml name is refused. */
  async put(input: unknown): Promise<TrustPolicyView> {
    const db = this.#needDb();
    const { body, policy } = checkedPolicyBody(input);
    if (this.#base.named(body.name)) throw new TrustCatalogError('CONFLICT', `trust policy ${body.name} is defined in config.yml; change it there`);
    const text = JSON.stringify(body);
    // One transaction: a pull between the delete and the insert would find no policy. The new
    // updated_at is above every stored one, so the stamp changes even within one millisecond.
    await db.transaction().execute(async (tx) => {
      const latest = await tx.selectFrom('trust_policies').select((eb) => eb.fn.max('updated_at').as('at')).executeTakeFirst();
      const updatedAt = Math.max(Date.now(), Number(latest?.at ?? 0) + 1);
      await tx.deleteFrom('trust_policies').where('name', '=', body.name).execute();
      await tx.insertInto('trust_policies').values({ name: body.name, body: text, updated_at: updatedAt }).execute();
    });
    await this.current();
    return {
      name: body.name, origin: 'api', mode: body.mode, repositories: body.repositories, exempt: body.exempt, satisfiedBy: policy.satisfiedBy,
      upstreams: [], body,
    };
  }

  async delete(name: string): Promise<void> {
    const db = this.#needDb();
    if (this.#base.named(name)) throw new TrustCatalogError('CONFLICT', `trust policy ${name} is defined in config.yml; remove it there`);
    const r = await db.deleteFrom('trust_policies').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new TrustCatalogError('NOT_FOUND', `no trust policy named ${name} was added through the API`);
    await this.current();
  }

  /**
   * A policy config.yml names that the API also stored: start refuses, naming both, rather than
   * let one silently hide the other.
   */
  async refuseShadowing(): Promise<void> {
    if (!this.#db) return;
    const names = this.#base.all.map((p) => p.name);
    if (names.length === 0) return;
    const rows = await this.#db.selectFrom('trust_policies').select(['name']).where('name', 'in', names).orderBy('name').execute();
    if (rows.length === 0) return;
    throw new ConfigError(rows.map((r) => `trust policy "${r.name}" is in config.yml and was also added through the API: remove one (\`berth trust policy rm ${r.name}\`, or rename it in config.yml)`));
  }

  #needDb(): Kysely<MetaTables> {
    if (!this.#db) throw new TrustCatalogError('CONFLICT', 'trust policies are stored in the metadata database, which this registry does not have');
    return this.#db;
  }
}

/**
 * What a stored policy that no longer reads stands for: enforce over the repositories its body
 * names, with nothing that can satisfy it, and a refusal that says why. Undefined when even its
 * repositories cannot be read (or it was off), as nothing is known of what it covered.
 */
function unreadablePolicy(name: string, body: string, problem: string): TrustPolicy | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(body);
  } catch {
    return undefined;
  }
  const { repositories, mode, exempt } = (parsed ?? {}) as { repositories?: unknown; mode?: unknown; exempt?: unknown };
  if (mode === 'off' || !Array.isArray(repositories) || repositories.length === 0 || !repositories.every((r) => typeof r === 'string')) return undefined;
  try {
    for (const r of repositories as string[]) globToRegExp(r);
  } catch {
    return undefined;
  }
  return {
    name, mode: 'enforce', repositories: repositories as string[],
    exempt: new Set(Array.isArray(exempt) ? exempt.filter((e): e is string => typeof e === 'string') : []),
    material: { keys: [] },
    satisfiedBy: `nothing until the stored policy is fixed or removed (berth trust policy rm ${name}): it cannot be read (${problem})`,
  };
}
