// Distribution's `notifications.endpoints`, resolved into the sinks' settings.
import type { Config } from '../config/schema.js';
import type { NotifierEndpoint } from './notifier.js';

export function endpointsFromConfig(config: Config): NotifierEndpoint[] {
  return config.notifications.endpoints.filter((e) => !e.disabled).map((e) => ({
    name: e.name,
    url: e.url,
    headers: e.headers,
    timeoutMs: e.timeout,
    threshold: e.threshold,
    backoffMs: Math.max(1, e.backoff),
    maxBackoffMs: Math.max(1, e.maxbackoff),
    maxAttempts: e.maxattempts,
    batchSize: e.batchsize,
    ignoredMediaTypes: [...e.ignoredmediatypes, ...e.ignore.mediatypes],
    ignoredActions: e.ignore.actions,
  }));
}
