// Keeps the inventory in step with the registry: a registry listener (src/events) records each
// pushed manifest's facts before the push answers, forgets deleted ones, and collects pulls,
// written in batches (a pull never waits on a database write). What it did not see (content
// written before it existed, by a one-shot command, or by the pull-through cache) is read from
// storage by digest: the listing index's tags and referrers at start, and any artifact pulled.
import type { Registry } from '../registry/registry.js';
import type { RegistryEvent, RegistryListener } from '../events/registry-listener.js';
import { tryParseDigest, type Digest } from '../oci/digest.js';
import { readFacts, type ArtifactFacts } from './facts.js';
import type { InventoryBook } from './book.js';

export interface RecorderLog {
  warn(obj: object, msg: string): void;
}

export interface RecorderOptions {
  /** How often collected pull times are written; default 2 s. */
  flushIntervalMs?: number;
}

export class InventoryRecorder {
  readonly #book: InventoryBook;
  readonly #core: Registry;
  readonly #log: RecorderLog;
  readonly #flushMs: number;
  #pulls = new Map<string, { repository: string; digest: string; at: number }>();
  #timer: NodeJS.Timeout | undefined;
  #flushing: Promise<void> = Promise.resolve();
  #backfill: Promise<void> | undefined;

  /** `core`: the undecorated registry, so that reading facts is no pull event. */
  constructor(book: InventoryBook, core: Registry, log: RecorderLog, options: RecorderOptions = {}) {
    this.#book = book;
    this.#core = core;
    this.#log = log;
    this.#flushMs = options.flushIntervalMs ?? 2000;
  }

  listener(): RegistryListener {
    return { event: (e) => this.#event(e) };
  }

  /** Starts writing pull times and reads what the inventory lacks from storage. */
  start(): void {
    this.#timer ??= setInterval(() => void this.flush(), this.#flushMs);
    this.#timer.unref();
    this.#backfill ??= this.backfill().then(() => undefined, (err: unknown) => this.#log.warn({ err }, 'inventory: reading missing artifacts from storage failed'));
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#backfill;
    await this.flush();
  }

  /** Writes the pull times collected so far (and reads pulled artifacts the inventory lacks). */
  async flush(): Promise<void> {
    const run = this.#flushing.then(async () => {
      if (this.#pulls.size === 0) return;
      const batch = [...this.#pulls.values()];
      this.#pulls = new Map();
      try {
        for (const p of await this.#book.pulled(batch)) {
          if (await this.#recordFromStorage(p.repository, p.digest, null)) await this.#book.pulled([p]);
        }
      } catch (err) {
        this.#log.warn({ err }, 'inventory: pull times not written');
      }
    });
    this.#flushing = run;
    return run;
  }

  /** Reads every tagged or referring manifest the inventory lacks from storage; answers how many it recorded. */
  async backfill(): Promise<number> {
    const unreadable = new Set<string>();
    let recorded = 0;
    for (;;) {
      const batch = (await this.#book.missing(200 + unreadable.size)).filter((m) => !unreadable.has(`${m.repository}@${m.digest}`));
      if (batch.length === 0) return recorded;
      for (const m of batch) {
        if (await this.#recordFromStorage(m.repository, m.digest, null)) recorded++;
        else unreadable.add(`${m.repository}@${m.digest}`);
      }
    }
  }

  /** The facts of `repository@digest`, read from storage if the inventory lacks them; undefined when storage lacks it too. */
  async ensure(repository: string, digest: Digest): Promise<ArtifactFacts | undefined> {
    return this.#read(repository, digest, null, 0);
  }

  async #event(e: RegistryEvent): Promise<void> {
    if (e.kind !== 'manifest' || !e.digest) return;
    try {
      if (e.action === 'push') await this.#recordFromStorage(e.repository, e.digest, e.timestamp.getTime());
      else if (e.action === 'delete') await this.#book.forget(e.repository, e.digest);
      else if (e.action === 'pull') this.#pulls.set(`${e.repository}@${e.digest}`, { repository: e.repository, digest: e.digest, at: e.timestamp.getTime() });
    } catch (err) {
      // The push or delete stands; the inventory catches up when the artifact is next read.
      this.#log.warn({ err, repository: e.repository, digest: e.digest }, 'inventory: change not recorded');
    }
  }

  /** Records `repository@digest` from storage (an index's unrecorded children first); false when storage lacks it. */
  async #recordFromStorage(repository: string, digestText: string, pushedAt: number | null): Promise<boolean> {
    const digest = tryParseDigest(digestText);
    if (typeof digest === 'string') return false;
    const facts = await this.#read(repository, digest, pushedAt, 0);
    return facts !== undefined;
  }

  async #read(repository: string, digest: Digest, pushedAt: number | null, depth: number): Promise<ArtifactFacts | undefined> {
    const known = await this.#book.get(repository, digest.value);
    if (known) {
      if (pushedAt !== null) await this.#book.record(repository, known, pushedAt);
      return known;
    }
    // Nested indexes are rare; two levels cover an index of indexes.
    const child = (d: Digest) => (depth < 2 ? this.#read(repository, d, pushedAt, depth + 1) : Promise.resolve(undefined));
    const facts = await readFacts(this.#core, repository, digest, child);
    if (facts) await this.#book.record(repository, facts, pushedAt);
    return facts;
  }
}
