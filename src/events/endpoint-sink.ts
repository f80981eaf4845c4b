// Delivers one endpoint's queue: batches of events in Distribution's envelope, oldest first.
// A 2xx or 3xx answer removes them; anything else is retried after `backoff`, growing
// exponentially once `threshold` consecutive attempts failed, up to `maxbackoff`; an event that
// reaches `maxattempts` moves to the dead-letter list.
import type { FastifyBaseLogger } from 'fastify';
import { EVENTS_MEDIA_TYPE, envelope } from './envelope.js';
import type { EventQueue } from './event-queue.js';

export interface EndpointSettings {
  name: string;
  url: string;
  headers: Record<string, string[]>;
  timeoutMs: number;
  threshold: number;
  backoffMs: number;
  maxBackoffMs: number;
  maxAttempts: number;
  batchSize: number;
  /** How long a claimed batch stays this sender's; default: the timeout plus LEASE_MARGIN_MS. */
  leaseMs?: number;
}

export interface SinkObserver {
  delivered(endpoint: string, count: number): void;
  failed(endpoint: string, status: string): void;
  deadLettered(endpoint: string, count: number): void;
}

/** Longest idle wait between two looks at the queue (another replica may have enqueued). */
const IDLE_POLL_MS = 1000;
/** Time past the POST's timeout for recording its outcome before another replica may resend. */
const LEASE_MARGIN_MS = 30_000;

export class EndpointSink {
  readonly #s: EndpointSettings;
  readonly #queue: EventQueue;
  readonly #log: FastifyBaseLogger;
  readonly #observer: SinkObserver | undefined;
  #consecutiveFailures = 0;
  #wake: (() => void) | undefined;
  #stopped = false;
  #loop: Promise<void> | undefined;
  readonly #abort = new AbortController();

  constructor(settings: EndpointSettings, queue: EventQueue, log: FastifyBaseLogger, observer?: SinkObserver) {
    this.#s = settings;
    this.#queue = queue;
    this.#log = log.child({ endpoint: settings.name });
    this.#observer = observer;
  }

  get name(): string {
    return this.#s.name;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Something was enqueued: look now rather than at the next poll. */
  poke(): void {
    this.#wake?.();
  }

  /**
   * Stops the loop. A POST in flight may finish until `deadline` (ms since the epoch; without
   * one it is cut at once): cut, its batch goes back to the queue although the endpoint may have
   * taken it, and is sent again: a drained replica would deliver it twice.
   */
  async stop(deadline?: number): Promise<void> {
    this.#stopped = true;
    this.#wake?.();
    const cut = setTimeout(() => this.#abort.abort(), deadline === undefined ? 0 : Math.max(0, deadline - Date.now()));
    try {
      await this.#loop;
    } finally {
      clearTimeout(cut);
    }
  }

  /** Delivers what is due now until the queue is empty, an attempt fails, or the deadline passes. */
  async drain(deadline: number): Promise<void> {
    while (Date.now() < deadline) {
      const sent = await this.#deliverDue(Math.max(1, Math.min(this.#s.timeoutMs, deadline - Date.now())), undefined);
      if (sent <= 0) return;
    }
  }

  async #run(): Promise<void> {
    while (!this.#stopped) {
      let sent = 0;
      try {
        sent = await this.#deliverDue(this.#s.timeoutMs, this.#abort.signal);
      } catch (err) {
        this.#log.error({ err }, 'notifications: queue unavailable');
      }
      if (sent > 0) continue;
      const next = await this.#queue.nextDue(this.#s.name).catch(() => undefined);
      const wait = next === undefined ? IDLE_POLL_MS : Math.min(IDLE_POLL_MS, Math.max(0, next - Date.now()));
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.#wake = () => { clearTimeout(timer); resolve(); };
      });
      this.#wake = undefined;
    }
  }

  /** One batch: the number delivered, 0 when nothing was due, -1 when the attempt failed. */
  async #deliverDue(timeoutMs: number, signal: AbortSignal | undefined): Promise<number> {
    const lease = this.#s.leaseMs ?? this.#s.timeoutMs + LEASE_MARGIN_MS;
    const batch = await this.#queue.claim(this.#s.name, Date.now(), this.#s.batchSize, lease);
    if (batch.length === 0) return 0;
    const status = await this.#post(envelope(batch.map((b) => b.event)), timeoutMs, signal);
    // Stopped mid-attempt: the batch goes back as it was, for the flush or the next start.
    if (signal?.aborted) {
      await this.#queue.release(this.#s.name, batch);
      return 0;
    }
    if (status === 'ok') {
      await this.#queue.delivered(this.#s.name, batch.map((b) => b.eventId));
      if (this.#consecutiveFailures >= this.#s.threshold) this.#log.info('notifications: endpoint is back');
      this.#consecutiveFailures = 0;
      this.#observer?.delivered(this.#s.name, batch.length);
      return batch.length;
    }
    this.#consecutiveFailures++;
    this.#observer?.failed(this.#s.name, status);
    const retryAt = Date.now() + this.#delayMs();
    const dead = await this.#queue.failed(this.#s.name, batch, status, retryAt, this.#s.maxAttempts);
    if (dead > 0) {
      this.#observer?.deadLettered(this.#s.name, dead);
      this.#log.error({ dead, error: status }, 'notifications: events moved to the dead-letter list');
    }
    if (this.#consecutiveFailures === this.#s.threshold) this.#log.warn({ error: status }, 'notifications: endpoint failing; backing off');
    return -1;
  }

  #delayMs(): number {
    const over = this.#consecutiveFailures - this.#s.threshold;
    if (over < 0) return this.#s.backoffMs;
    return Math.min(this.#s.maxBackoffMs, this.#s.backoffMs * 2 ** Math.min(over + 1, 30));
  }

  /** 'ok', or what went wrong (an HTTP status or a network error). */
  async #post(body: string, timeoutMs: number, signal: AbortSignal | undefined): Promise<string> {
    const headers = new Headers();
    for (const [k, vs] of Object.entries(this.#s.headers)) for (const v of vs) headers.append(k, v);
    headers.set('Content-Type', EVENTS_MEDIA_TYPE);
    try {
      const res = await fetch(this.#s.url, {
        method: 'POST', body, headers, redirect: 'manual',
        signal: signal ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)]) : AbortSignal.timeout(timeoutMs),
      });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400 ? 'ok' : `HTTP ${res.status}`;
    } catch (err) {
      const e = err as Error & { cause?: { code?: string; message?: string } };
      return e.cause?.code ?? e.cause?.message ?? e.name ?? 'error';
    }
  }
}
