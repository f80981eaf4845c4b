// Every endpoint and policy replication knows: config.yml's (fixed while the process runs) and
// those added through the admin API or the CLI, kept in the metadata database with endpoint
// passwords sealed (sealing.ts). Both kinds are checked by the same rules as the configuration.
// Every push asks which policies it concerns, so the parsed policies are kept, and kept only while
// the table's stamp (row count and latest change) is the one they were read under: a policy the CLI
// or another replica stored covers the very next push, not one a cache period later.
import { readFileSync } from 'node:fs';
import type { Kysely } from 'kysely';
import { Value } from '@sinclair/typebox/value';
import type { MetaTables } from '../meta/tables/index.js';
import { tableStamp } from '../meta/table-stamp.js';
import {
  ReplicationEndpointSchema, ReplicationPolicySchema, policyProblems,
  type ReplicationEndpointConfig, type ReplicationPolicyConfig, type ReplicationSettings,
} from '../config/sections/replication.js';
import { ReplicationPolicy } from './policy.js';
import type { EndpointSettings } from './remote-side.js';
import { seal, unsealWith, type SealingKeys } from './sealing.js';

export class CatalogError extends Error {
  constructor(readonly code: 'INVALID' | 'CONFLICT' | 'NOT_FOUND', message: string) {
    super(message);
  }
}

/** What the API and CLI show of an endpoint: never its password. */
export interface EndpointView {
  name: string;
  url: string;
  username: string | null;
  hasPassword: boolean;
  insecure: boolean;
  origin: 'config' | 'api';
}

export interface PolicyView extends ReplicationPolicyConfig {
  origin: 'config' | 'api';
}

function endpointFromConfig(e: ReplicationEndpointConfig): EndpointSettings {
  const password = e.passwordfile !== undefined ? readFileSync(e.passwordfile, 'utf8').replace(/\r?\n$/, '') : e.password;
  return { name: e.name, url: e.url, username: e.username, password, insecure: e.insecure, ...(e.ca ? { ca: readFileSync(e.ca) } : {}) };
}

export class PolicyCatalog {
  readonly #db: Kysely<MetaTables>;
  readonly #keys: SealingKeys | undefined;
  readonly #configPolicies: ReplicationPolicy[];
  readonly #configPolicyInput: ReplicationPolicyConfig[];
  readonly #configEndpoints = new Map<string, EndpointSettings>();
  #cache: { stamp: string; policies: ReplicationPolicy[] } | undefined;

  constructor(db: Kysely<MetaTables>, settings: ReplicationSettings, keys: SealingKeys | undefined) {
    this.#db = db;
    this.#keys = keys;
    this.#configPolicies = settings.policies.map((p) => new ReplicationPolicy(p, 'config'));
    this.#configPolicyInput = settings.policies.map((p) => Value.Encode(ReplicationPolicySchema, p));
    for (const e of settings.endpoints) this.#configEndpoints.set(e.name, endpointFromConfig(e));
  }

  async policies(): Promise<ReplicationPolicy[]> {
    // The stamp is read before the rows: a change between the two leaves a stale stamp, which
    // only makes the next call read again.
    const stamp = await tableStamp(this.#db, 'replication_policies');
    if (this.#cache?.stamp === stamp) return this.#cache.policies;
    const stored = await this.#db.selectFrom('replication_policies').selectAll().orderBy('name').execute();
    const fromApi = stored.map((r) => new ReplicationPolicy(Value.Decode(ReplicationPolicySchema, JSON.parse(r.body)), 'api'));
    const policies = [...this.#configPolicies, ...fromApi];
    this.#cache = { stamp, policies };
    return policies;
  }

  async policy(name: string): Promise<ReplicationPolicy | undefined> {
    return (await this.policies()).find((p) => p.name === name);
  }

  async policyViews(): Promise<PolicyView[]> {
    const stored = await this.#db.selectFrom('replication_policies').selectAll().orderBy('name').execute();
    return [
      ...this.#configPolicyInput.map((p) => ({ ...p, origin: 'config' as const })),
      ...stored.map((r) => ({ ...(JSON.parse(r.body) as ReplicationPolicyConfig), origin: 'api' as const })),
    ];
  }

  async endpoint(name: string): Promise<EndpointSettings | undefined> {
    const fixed = this.#configEndpoints.get(name);
    if (fixed) return fixed;
    const row = await this.#db.selectFrom('replication_endpoints').selectAll().where('name', '=', name).where('origin', '=', 'api').executeTakeFirst();
    if (!row) return undefined;
    const password = row.password_sealed === null ? undefined : unsealWith(this.#needKey(), row.password_sealed).plaintext;
    return { name: row.name, url: row.url, username: row.username ?? undefined, password, insecure: row.insecure === 1, ...(row.ca ? { ca: row.ca } : {}) };
  }

  async endpointViews(): Promise<EndpointView[]> {
    const rows = await this.#db.selectFrom('replication_endpoints').selectAll().where('origin', '=', 'api').orderBy('name').execute();
    return [
      ...[...this.#configEndpoints.values()].map((e) => ({ name: e.name, url: e.url, username: e.username ?? null, hasPassword: e.password !== undefined, insecure: e.insecure, origin: 'config' as const })),
      ...rows.map((r) => ({ name: r.name, url: r.url, username: r.username, hasPassword: r.password_sealed !== null, insecure: r.insecure === 1, origin: 'api' as const })),
    ];
  }

  /** Adds or replaces an endpoint of the API; its password is sealed before it is stored. */
  async putEndpoint(body: unknown): Promise<EndpointView> {
    const e = checked(ReplicationEndpointSchema, body, 'endpoint') as ReplicationEndpointConfig;
    if (this.#configEndpoints.has(e.name)) throw new CatalogError('CONFLICT', `endpoint ${e.name} is defined in config.yml; change it there`);
    if (e.passwordfile !== undefined) throw new CatalogError('INVALID', 'passwordfile is for config.yml; send the password itself');
    const sealed = e.password !== undefined ? seal(this.#needKey().current, e.password) : null;
    const row = { name: e.name, url: e.url, username: e.username ?? null, password_sealed: sealed, insecure: e.insecure ? 1 : 0, ca: e.ca ? readFileSync(e.ca, 'utf8') : null, updated_at: Date.now() };
    // One transaction: a replica reading between the delete and the insert would find no endpoint.
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('replication_endpoints').where('name', '=', e.name).execute();
      await tx.insertInto('replication_endpoints').values(row).execute();
    });
    return { name: e.name, url: e.url, username: row.username, hasPassword: sealed !== null, insecure: e.insecure, origin: 'api' };
  }

  async deleteEndpoint(name: string): Promise<void> {
    if (this.#configEndpoints.has(name)) throw new CatalogError('CONFLICT', `endpoint ${name} is defined in config.yml; remove it there`);
    const users = (await this.policies()).filter((p) => p.settings.endpoint === name).map((p) => p.name);
    if (users.length > 0) throw new CatalogError('CONFLICT', `endpoint ${name} is used by policies ${users.join(', ')}`);
    const r = await this.#db.deleteFrom('replication_endpoints').where('name', '=', name).where('origin', '=', 'api').executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new CatalogError('NOT_FOUND', `no endpoint named ${name}`);
  }

  /** Adds or replaces a policy of the API, checked as config.yml's are. */
  async putPolicy(body: unknown): Promise<PolicyView> {
    const p = checked(ReplicationPolicySchema, body, 'policy') as ReplicationPolicyConfig;
    if (this.#configPolicies.some((c) => c.name === p.name)) throw new CatalogError('CONFLICT', `policy ${p.name} is defined in config.yml; change it there`);
    const endpoints = new Set((await this.endpointViews()).map((e) => e.name));
    const problems = policyProblems(p, 'policy', endpoints);
    if (problems.length > 0) throw new CatalogError('INVALID', problems.join('; '));
    // One transaction: a push between the delete and the insert would find no policy.
    await this.#db.transaction().execute(async (tx) => {
      await tx.deleteFrom('replication_policies').where('name', '=', p.name).execute();
      await tx.insertInto('replication_policies').values({ name: p.name, body: JSON.stringify(p), updated_at: Date.now() }).execute();
    });
    this.#cache = undefined;
    return { ...p, origin: 'api' };
  }

  async deletePolicy(name: string): Promise<void> {
    if (this.#configPolicies.some((c) => c.name === name)) throw new CatalogError('CONFLICT', `policy ${name} is defined in config.yml; remove it there`);
    const r = await this.#db.deleteFrom('replication_policies').where('name', '=', name).executeTakeFirst();
    if (Number(r.numDeletedRows) === 0) throw new CatalogError('NOT_FOUND', `no policy named ${name}`);
    this.#cache = undefined;
  }

  /**
   * Stores config.yml's endpoints (passwords sealed) as its rows, and forgets rows of endpoints
   * config.yml no longer has: the database holds every credential replication uses, encrypted.
   */
  async storeConfigEndpoints(): Promise<void> {
    const now = Date.now();
    const names = [...this.#configEndpoints.keys()];
    await this.#refuseShadowing(names);
    // Upserts, not delete-then-insert: replicas sharing PostgreSQL start at the same moment.
    for (const e of this.#configEndpoints.values()) {
      const row = {
        url: e.url, username: e.username ?? null, insecure: e.insecure ? 1 : 0, ca: e.ca ? e.ca.toString() : null, updated_at: now, origin: 'config',
        password_sealed: e.password !== undefined ? seal(this.#needKey().current, e.password) : null,
      };
      await this.#db.insertInto('replication_endpoints').values({ name: e.name, ...row })
        .onConflict((oc) => oc.column('name').doUpdateSet(row)).execute();
    }
    let gone = this.#db.deleteFrom('replication_endpoints').where('origin', '=', 'config');
    if (names.length > 0) gone = gone.where('name', 'not in', names);
    await gone.execute();
  }

  /**
   * An endpoint or policy config.yml names that the API (or `berth replication ... put`) also
   * stored under that name: start refuses, naming both, rather than let config.yml's replace
   * the stored one silently (its URL and sealed password would be lost without a word).
   */
  async #refuseShadowing(endpointNames: string[]): Promise<void> {
    const clashes: string[] = [];
    if (endpointNames.length > 0) {
      const rows = await this.#db.selectFrom('replication_endpoints').select(['name', 'url']).where('origin', '=', 'api').where('name', 'in', endpointNames).orderBy('name').execute();
      for (const r of rows) {
        clashes.push(`endpoint "${r.name}" is in config.yml (${this.#configEndpoints.get(r.name)!.url}) and was also added through the API (${r.url}): remove one (\`berth replication endpoint rm ${r.name}\`, or rename it in config.yml)`);
      }
    }
    const policyNames = this.#configPolicies.map((p) => p.name);
    if (policyNames.length > 0) {
      const rows = await this.#db.selectFrom('replication_policies').select(['name']).where('name', 'in', policyNames).orderBy('name').execute();
      for (const r of rows) clashes.push(`policy "${r.name}" is in config.yml and was also added through the API: remove one (\`berth replication policy rm ${r.name}\`, or rename it in config.yml)`);
    }
    if (clashes.length > 0) throw new ReplicationConflictError(`replication: ${clashes.join('; ')}`);
  }

  /**
   * Seals every stored credential under the current key (`berth replication rekey`): those
   * sealed under `previouskey` during a rotation, and the others afresh. Refuses, naming the
   * endpoint, a credential neither key opens, before changing anything.
   */
  async rekey(): Promise<{ endpoints: number; fromPrevious: number }> {
    const keys = this.#needKey();
    return this.#db.transaction().execute(async (tx) => {
      const rows = await tx.selectFrom('replication_endpoints').select(['name', 'origin', 'password_sealed']).where('password_sealed', 'is not', null).execute();
      const opened = rows.map((r) => {
        try {
          return { ...r, ...unsealWith(keys, r.password_sealed!) };
        } catch {
          throw new CatalogError('INVALID', `the password of endpoint ${r.name} (${r.origin}) opens with neither replication.key nor replication.previouskey`);
        }
      });
      for (const r of opened) {
        await tx.updateTable('replication_endpoints').set({ password_sealed: seal(keys.current, r.plaintext), updated_at: Date.now() })
          .where('name', '=', r.name).where('origin', '=', r.origin).execute();
      }
      return { endpoints: opened.length, fromPrevious: opened.filter((r) => r.underPrevious).length };
    });
  }

  #needKey(): SealingKeys {
    if (!this.#keys) throw new CatalogError('INVALID', 'endpoint passwords are stored encrypted: set replication.key or replication.keyfile first');
    return this.#keys;
  }
}

/** The body with the schema's defaults, or a refusal naming each wrong key. */
function checked(schema: typeof ReplicationPolicySchema | typeof ReplicationEndpointSchema, body: unknown, what: string): unknown {
  const value = Value.Default(schema, Value.Clone(body ?? {}));
  const errors = [...Value.Errors(schema, value)].map((e) => `${what}${e.path.replace(/\//g, '.')}: ${e.message}`);
  if (errors.length > 0) throw new CatalogError('INVALID', errors.join('; '));
  return value;
}

/** config.yml and the stored objects name the same endpoint or policy: start refuses. */
export class ReplicationConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ReplicationConflictError';
  }
}
