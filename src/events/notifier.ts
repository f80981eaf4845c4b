// The notifications listener: turns registry events into Distribution events, writes one queue
// row per interested endpoint (before the request that caused it answers), and runs one sink
// per endpoint. On shutdown it delivers what it can within the drain time; the rest waits in
// the database for the next start.
import type { FastifyBaseLogger } from 'fastify';
import type { Kysely } from 'kysely';
import type { MetaTables } from '../meta/tables/index.js';
import type { RegistryEvent, RegistryListener } from './registry-listener.js';
import { toDistributionEvent, type EventSource } from './envelope.js';
import { EventQueue } from './event-queue.js';
import { EndpointSink, type EndpointSettings, type SinkObserver } from './endpoint-sink.js';

export interface EndpointFilter {
  /** Media types not sent to this endpoint (Distribution's ignoredmediatypes and ignore.mediatypes). */
  ignoredMediaTypes: string[];
  ignoredActions: string[];
}

export type NotifierEndpoint = EndpointSettings & EndpointFilter;

export class Notifier implements RegistryListener {
  readonly #queue: EventQueue;
  readonly #endpoints: NotifierEndpoint[];
  readonly #sinks: EndpointSink[];
  readonly #source: EventSource;
  readonly #log: FastifyBaseLogger;

  constructor(db: Kysely<MetaTables>, endpoints: NotifierEndpoint[], source: EventSource, log: FastifyBaseLogger, observer?: SinkObserver) {
    this.#queue = new EventQueue(db);
    this.#endpoints = endpoints;
    this.#source = source;
    this.#log = log;
    this.#sinks = endpoints.map((e) => new EndpointSink(e, this.#queue, log, observer));
  }

  get queue(): EventQueue {
    return this.#queue;
  }

  async event(e: RegistryEvent): Promise<void> {
    const event = toDistributionEvent(e, this.#source);
    const targets = this.#endpoints.filter((ep) => !ep.ignoredActions.includes(event.action)
      && !(event.target.mediaType !== undefined && ep.ignoredMediaTypes.includes(event.target.mediaType)));
    if (targets.length === 0) return;
    try {
      await this.#queue.enqueue(targets.map((t) => t.name), event);
    } catch (err) {
      // The registry operation succeeded; failing the request would not undo it.
      this.#log.error({ err, action: event.action, repository: event.target.repository }, 'notifications: event not queued');
      return;
    }
    for (const sink of this.#sinks) if (targets.some((t) => t.name === sink.name)) sink.poke();
  }

  start(): void {
    for (const s of this.#sinks) s.start();
  }

  /** Stops the sinks, then delivers what is due until `deadline` (ms since the epoch). */
  async close(deadline: number): Promise<void> {
    await Promise.all(this.#sinks.map((s) => s.stop(deadline)));
    await Promise.all(this.#sinks.map((s) => s.drain(deadline).catch((err: unknown) => {
      this.#log.warn({ err, endpoint: s.name }, 'notifications: could not flush the queue; it waits for the next start');
    })));
  }
}
