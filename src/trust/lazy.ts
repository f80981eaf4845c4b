// Content trust for a registry whose config.yml names no trust policy but whose admin API may
// store some: nothing of trust (the Sigstore, JOSE and OCI client modules) is loaded until a
// stored policy exists or an administrator calls a trust route. Until then each guarded manifest
// read asks the database whether a policy was stored (one indexed count, so a policy stored by
// the CLI or another replica is in force at the next read). Only type imports here.
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { Registry } from '../registry/registry.js';
import type { ManifestStore } from '../registry/manifest-store.js';
import type { RequestScope } from '../events/request-scope.js';
import { decorate } from '../registry/decorate.js';
import type { TrustService } from './trust-service.js';

export class TrustLoader {
  readonly #db: Kysely<MetaTables>;
  readonly #load: () => Promise<TrustService>;
  #service: Promise<TrustService> | undefined;
  #loaded: TrustService | undefined;

  constructor(db: Kysely<MetaTables>, load: () => Promise<TrustService>) {
    this.#db = db;
    this.#load = load;
  }

  /** The service, loaded now if it was not. */
  load(): Promise<TrustService> {
    this.#service ??= this.#load().then((s) => (this.#loaded = s), (err: unknown) => {
      this.#service = undefined;
      throw err;
    });
    return this.#service;
  }

  /** The service once loaded, or loaded because a stored policy now exists; undefined while none does. */
  async active(): Promise<TrustService | undefined> {
    if (this.#loaded) return this.#loaded;
    if (this.#service) return this.#service;
    const r = await this.#db.selectFrom('trust_policies').select((eb) => eb.fn.countAll<number | string>().as('n')).executeTakeFirstOrThrow();
    return Number(r.n) > 0 ? this.load() : undefined;
  }

  /** The registry with manifest reads judged once trust is active, and signature writes watched then. */
  guard(registry: Registry, scope: RequestScope, judgedAtFetch?: (name: string, ns: string | undefined) => Promise<boolean>): Registry {
    let guarded: { service: TrustService; registry: Registry } | undefined;
    const inner = async (): Promise<ManifestStore> => {
      const service = await this.active();
      if (!service) return registry.manifests;
      if (guarded?.service !== service) guarded = { service, registry: service.guard(registry, scope, judgedAtFetch) };
      return guarded.registry.manifests;
    };
    const manifests = decorate<ManifestStore>(registry.manifests, {
      get: async (...args: Parameters<ManifestStore['get']>) => (await inner()).get(...args),
      put: async (...args: Parameters<ManifestStore['put']>) => (await inner()).put(...args),
      delete: async (...args: Parameters<ManifestStore['delete']>) => (await inner()).delete(...args),
    });
    return decorate<Registry>(registry, { manifests });
  }
}
