// Replication for a serving registry, from its configuration: present whenever the metadata
// database is (policies may also come from the admin API), idle without policies.
import type { FastifyBaseLogger } from 'fastify';
import type { Config } from '../config/schema.js';
import type { MetaDatabase } from '../meta/database.js';
import type { Registry } from '../registry/registry.js';
import type { MetricsRegistry } from '../metrics/metrics.js';
import { PolicyCatalog } from './catalog.js';
import { sealingKey } from './sealing.js';
import { ReplicationService } from './service.js';

export function replicationFromConfig(config: Config, parts: { meta: MetaDatabase; core: Registry; logger: FastifyBaseLogger; metrics?: MetricsRegistry | undefined }): ReplicationService {
  const settings = config.replication;
  const catalog = new PolicyCatalog(parts.meta.db, settings, sealingKey(settings));
  return new ReplicationService({ settings, db: parts.meta.db, core: parts.core, catalog, logger: parts.logger, metrics: parts.metrics });
}

