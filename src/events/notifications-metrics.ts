// Instruments of the notification queues, on the server's Prometheus registry.
import { Counter, Gauge } from 'prom-client';
import type { MetricsRegistry } from '../metrics/metrics.js';
import type { SinkObserver } from './endpoint-sink.js';
import type { EventQueue } from './event-queue.js';

export function notificationsMetrics(registry: MetricsRegistry, queue: () => EventQueue | undefined, endpoints: string[]): SinkObserver {
  const on = { registers: [registry] };
  const delivered = new Counter({ ...on, name: 'berth_notifications_delivered_events_total', help: 'Events an endpoint accepted.', labelNames: ['endpoint'] as const });
  const failed = new Counter({ ...on, name: 'berth_notifications_failed_attempts_total', help: 'Delivery attempts that failed, by HTTP status or network error.', labelNames: ['endpoint', 'status'] as const });
  const dead = new Counter({ ...on, name: 'berth_notifications_deadletter_events_total', help: 'Events moved to the dead-letter list.', labelNames: ['endpoint'] as const });
  new Gauge({
    ...on, name: 'berth_notifications_pending_events', help: 'Events waiting in an endpoint\'s queue (all replicas).', labelNames: ['endpoint'] as const,
    async collect() {
      const q = queue();
      if (!q) return;
      for (const endpoint of endpoints) this.set({ endpoint }, await q.pendingCount(endpoint).catch(() => Number.NaN));
    },
  });
  return {
    delivered: (endpoint, count) => delivered.inc({ endpoint }, count),
    failed: (endpoint, status) => failed.inc({ endpoint, status }),
    deadLettered: (endpoint, count) => dead.inc({ endpoint }, count),
  };
}
