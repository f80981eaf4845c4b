// Content trust from the `trust` section, for a serving registry: undefined when no policy is
// configured and none can be added (no metadata database or no admin API), so such a registry
// pays nothing.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Observability } from '../server/observability.js';
import { ConfigError } from '../config/load.js';
import { TrustPolicies } from './policies.js';
import { TrustService } from './trust-service.js';
import { TrustCatalog } from './catalog.js';
import { createReporter } from './reporter.js';

/** Whether content trust is loaded: policies in config.yml, or an admin API that may store some. */
export function trustWanted(config: Config, hasMeta: boolean): boolean {
  return config.trust.policies.length > 0 || config.trust.notation !== undefined || (hasMeta && config.auth !== undefined);
}

export async function trustFromConfig(config: Config, deps: { core: Registry; logger: FastifyBaseLogger; observability?: Observability | undefined; meta?: MetaDatabase | undefined }): Promise<TrustService | undefined> {
  if (!trustWanted(config, deps.meta !== undefined)) return undefined;
  const policies = new TrustPolicies(config.trust.policies, config.trust.notation);
  // With trust.notation, config loading could not know the statements' names; an upstream's
  // verify: is checked against them here, before anything is served.
  // (proxy.verify of Distribution's remoteurl is the verify of its upstream, "default", by now.)
  const unknown = config.proxy.upstreams.flatMap((u) => (u.verify !== undefined && !policies.named(u.verify)
    ? [`proxy upstream "${u.name}" verify: no trust policy is named "${u.verify}" (policies: ${policies.all.map((p) => p.name).join(', ')})`]
    : []));
  if (unknown.length > 0) throw new ConfigError(unknown);
  const reporter = createReporter({ logger: deps.logger, metrics: deps.observability?.metrics?.registry, notifier: deps.observability?.notifier, audit: deps.meta?.db });
  let service: TrustService | undefined;
  const catalog = new TrustCatalog({
    // Stored policies are edited through the admin API, which exists only with `auth`.
    db: config.auth !== undefined ? deps.meta?.db : undefined,
    base: policies,
    verifies: config.proxy.upstreams.flatMap((u) => (u.verify !== undefined ? [{ upstream: u.name, policy: u.verify }] : [])),
    changed: (names) => service?.policiesChanged(names),
    warn: (message, detail) => deps.logger.warn(detail ?? {}, message),
  });
  await catalog.refuseShadowing();
  service = new TrustService({ core: deps.core, catalog, cacheSize: config.trust.cachesize, cacheTtlMs: config.trust.cachettl, logger: deps.logger, reporter });
  return service;
}
