// Content trust from the `trust` section, for a serving registry: undefined when no policy is
// configured, so a registry without one pays nothing.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Observability } from '../server/observability.js';
import { ConfigError } from '../config/load.js';
import { TrustPolicies } from './policies.js';
import { TrustService } from './trust-service.js';
import { createReporter } from './reporter.js';

export function trustFromConfig(config: Config, deps: { core: Registry; logger: FastifyBaseLogger; observability?: Observability | undefined; meta?: MetaDatabase | undefined }): TrustService | undefined {
  if (config.trust.policies.length === 0 && !config.trust.notation) return undefined;
  const policies = new TrustPolicies(config.trust.policies, config.trust.notation);
  // With trust.notation, config loading could not know the statements' names; an upstream's
  // verify: is checked against them here, before anything is served.
  // (proxy.verify of Distribution's remoteurl is the verify of its upstream, "default", by now.)
  const unknown = config.proxy.upstreams.flatMap((u) => (u.verify !== undefined && !policies.named(u.verify)
    ? [`proxy upstream "${u.name}" verify: no trust policy is named "${u.verify}" (policies: ${policies.all.map((p) => p.name).join(', ')})`]
    : []));
  if (unknown.length > 0) throw new ConfigError(unknown);
  const reporter = createReporter({ logger: deps.logger, metrics: deps.observability?.metrics?.registry, notifier: deps.observability?.notifier, audit: deps.meta?.db });
  return new TrustService({ core: deps.core, policies, cacheSize: config.trust.cachesize, cacheTtlMs: config.trust.cachettl, logger: deps.logger, reporter });
}
