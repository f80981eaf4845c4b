// CNCF Distribution's notification format, so existing consumers (Harbor, scanners, CI hooks)
// read Berth's events unchanged: an envelope `{"events":[...]}` sent as
// `application/vnd.docker.distribution.events.v1+json`.
import { randomUUID } from 'node:crypto';
import type { RegistryEvent } from './registry-listener.js';

export const EVENTS_MEDIA_TYPE = 'application/vnd.docker.distribution.events.v1+json';

export interface DistributionEvent {
  id: string;
  timestamp: string;
  action: string;
  target: {
    mediaType?: string;
    size?: number;
    digest?: string;
    length?: number;
    repository: string;
    fromRepository?: string;
    url?: string;
    tag?: string;
  };
  request: { id: string; addr: string; host: string; method: string; useragent: string };
  actor: { name?: string };
  source: { addr: string; instanceID: string };
}

export interface EventSource {
  addr: string;
  instanceID: string;
}

export function toDistributionEvent(e: RegistryEvent, source: EventSource): DistributionEvent {
  const r = e.request;
  const target: DistributionEvent['target'] = { repository: e.repository };
  if (e.mediaType !== undefined) target.mediaType = e.mediaType;
  if (e.size !== undefined) {
    target.size = e.size;
    target.length = e.size;
  }
  if (e.digest !== undefined) target.digest = e.digest;
  if (e.fromRepository !== undefined) target.fromRepository = e.fromRepository;
  if (r && e.digest) target.url = `${r.scheme}://${r.host}/v2/${e.repository}/${e.kind === 'blob' ? 'blobs' : 'manifests'}/${e.digest}`;
  if (e.tag !== undefined) target.tag = e.tag;
  return {
    id: randomUUID(),
    timestamp: e.timestamp.toISOString(),
    action: e.action,
    target,
    request: { id: r?.id ?? '', addr: r?.addr ?? '', host: r?.host ?? '', method: r?.method ?? '', useragent: r?.useragent ?? '' },
    actor: r?.user ? { name: r.user } : {},
    source,
  };
}

export function envelope(events: DistributionEvent[]): string {
  return JSON.stringify({ events });
}
