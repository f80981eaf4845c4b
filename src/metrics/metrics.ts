// The Prometheus instruments of one server instance, on a prom-client Registry of its own (never
// the global default), so two servers in one process keep separate counts. Names and labels
// follow CNCF Distribution (`registry_*`) where it has the metric, so existing dashboards work;
// Berth's additions are `berth_<area>_<what>_<unit>`. Other features register theirs on
// `metrics.registry` (see `MetricsRegistry`).
import { Counter, Gauge, Histogram, Registry as PromRegistry, collectDefaultMetrics } from 'prom-client';

export type MetricsRegistry = PromRegistry;

/** Distribution's (docker/go-metrics) HTTP buckets. */
const DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 60];
const SIZE_BUCKETS = Array.from({ length: 22 }, (_, i) => 1024 * 2 ** i);

export interface Metrics {
  readonly registry: MetricsRegistry;
  readonly httpRequests: Counter<'handler' | 'code' | 'method'>;
  readonly httpDuration: Histogram<'handler' | 'method'>;
  readonly httpInFlight: Gauge<'handler'>;
  readonly httpRequestSize: Histogram<'handler'>;
  readonly httpResponseSize: Histogram<'handler'>;
  readonly storageAction: Histogram<'driver' | 'action'>;
  readonly pushes: Counter<'kind'>;
  readonly pulls: Counter<'kind' | 'outcome'>;
  readonly mounts: Counter;
  readonly receivedBytes: Counter<'kind'>;
  readonly sentBytes: Counter<'kind'>;
  readonly uploadsInProgress: Gauge;
  readonly repositoryBytes: Gauge<'repository'>;
  /** Prometheus text exposition of everything registered. */
  render(): Promise<string>;
  readonly contentType: string;
}

export function createMetrics(options: { processMetrics?: boolean } = {}): Metrics {
  const registry = new PromRegistry();
  const on = { registers: [registry] };
  if (options.processMetrics !== false) {
    collectDefaultMetrics({ register: registry });
    // Gauges named like counters, which `promtool check metrics` rejects; the per-type
    // `nodejs_active_handles` and friends carry the same figures.
    for (const name of ['nodejs_active_handles_total', 'nodejs_active_requests_total', 'nodejs_active_resources_total']) {
      registry.removeSingleMetric(name);
    }
  }
  const pulls = new Counter({
    ...on, name: 'berth_registry_pulls_total', labelNames: ['kind', 'outcome'] as const,
    help: 'Blob and manifest GETs, by outcome: success (sent in full) or failure (error status or cut short).',
  });
  const metrics: Metrics = {
    registry,
    httpRequests: new Counter({ ...on, name: 'registry_http_requests_total', help: 'Total number of HTTP requests made.', labelNames: ['handler', 'code', 'method'] as const }),
    httpDuration: new Histogram({ ...on, name: 'registry_http_request_duration_seconds', help: 'The HTTP request latencies in seconds.', labelNames: ['handler', 'method'] as const, buckets: DURATION_BUCKETS }),
    httpInFlight: new Gauge({ ...on, name: 'registry_http_in_flight_requests', help: 'The in-flight HTTP requests', labelNames: ['handler'] as const }),
    httpRequestSize: new Histogram({ ...on, name: 'registry_http_request_size_bytes', help: 'The HTTP request sizes in bytes.', labelNames: ['handler'] as const, buckets: SIZE_BUCKETS }),
    httpResponseSize: new Histogram({ ...on, name: 'registry_http_response_size_bytes', help: 'The HTTP response sizes in bytes.', labelNames: ['handler'] as const, buckets: SIZE_BUCKETS }),
    storageAction: new Histogram({ ...on, name: 'registry_storage_action_seconds', help: 'The number of seconds that the storage action takes', labelNames: ['driver', 'action'] as const }),
    pushes: new Counter({ ...on, name: 'berth_registry_pushes_total', help: 'Blobs and manifests stored (a blob already in the repository is not counted again).', labelNames: ['kind'] as const }),
    pulls,
    mounts: new Counter({ ...on, name: 'berth_registry_blob_mounts_total', help: 'Blobs linked into a repository by cross-repository mount.' }),
    receivedBytes: new Counter({ ...on, name: 'berth_registry_received_bytes_total', help: 'Blob and manifest bytes received from clients.', labelNames: ['kind'] as const }),
    sentBytes: new Counter({ ...on, name: 'berth_registry_sent_bytes_total', help: 'Blob and manifest bytes sent to clients.', labelNames: ['kind'] as const }),
    uploadsInProgress: new Gauge({ ...on, name: 'berth_registry_upload_sessions', help: 'Upload sessions started by this process and not yet finished, cancelled or purged.' }),
    repositoryBytes: new Gauge({ ...on, name: 'berth_storage_repository_bytes', help: 'Bytes linked into each repository (blobs and manifests; shared blobs count in each repository).', labelNames: ['repository'] as const }),
    render: () => registry.metrics(),
    contentType: registry.contentType,
  };
  new Gauge({
    ...on, name: 'berth_registry_pull_success_ratio',
    help: 'Successful pulls over all pulls since the start (NaN before the first pull); rate() the pulls counter for a window.',
    async collect() {
      const values = (await pulls.get()).values;
      const all = values.reduce((n, v) => n + v.value, 0);
      const ok = values.filter((v) => v.labels.outcome === 'success').reduce((n, v) => n + v.value, 0);
      this.set(all === 0 ? Number.NaN : ok / all);
    },
  });
  return metrics;
}
