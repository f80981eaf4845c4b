// Content trust from the `trust` section, for a serving registry: undefined when no policy is
// configured, so a registry without one pays nothing.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { Registry } from '../registry/registry.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Observability } from '../server/observability.js';
import { TrustPolicies } from './policies.js';
import { TrustService } from './trust-service.js';
import { createReporter } from './reporter.js';

export function trustFromConfig(config: Config, deps: { core: Registry; logger: FastifyBaseLogger; observability?: Observability | undefined; meta?: MetaDatabase | undefined }): TrustService | undefined {
  if (config.trust.policies.length === 0) return undefined;
  const policies = new TrustPolicies(config.trust.policies);
  const reporter = createReporter({ logger: deps.logger, metrics: deps.observability?.metrics?.registry, notifier: deps.observability?.notifier, audit: deps.meta?.db });
  return new TrustService({ core: deps.core, policies, cacheSize: config.trust.cachesize, cacheTtlMs: config.trust.cachettl, logger: deps.logger, reporter });
}
