// A StorageDriver decorator timing every action into Distribution's
// `registry_storage_action_seconds{driver,action}`. Readers and writers are timed until they
// are handed back (the time to open them), as Distribution times its driver calls.
import type { Readable } from 'node:stream';
import { hasPendingWrites, type FileInfo, type FileWriter, type PendingWrites, type ReadOptions, type StorageDriver } from '../storage/driver.js';
import { canCreateExclusive, type ExclusiveCreate } from '../storage/exclusive-create.js';
import type { Metrics } from './metrics.js';

export class InstrumentedDriver implements StorageDriver {
  readonly #inner: StorageDriver;
  readonly #histogram: Metrics['storageAction'];

  constructor(inner: StorageDriver, metrics: Pick<Metrics, 'storageAction'>) {
    this.#inner = inner;
    this.#histogram = metrics.storageAction;
    // Optional capabilities are found by type guard: offer one exactly when the inner driver has it.
    if (canCreateExclusive(inner)) {
      (this as unknown as ExclusiveCreate).createExclusive = (path, content) =>
        this.#time('CreateExclusive', () => inner.createExclusive(path, content));
    }
    if (hasPendingWrites(inner)) {
      (this as unknown as PendingWrites).pendingSize = (path) => this.#time('PendingSize', () => inner.pendingSize(path));
    }
  }

  get name(): string {
    return this.#inner.name;
  }

  async #time<T>(action: string, op: () => Promise<T>): Promise<T> {
    const end = this.#histogram.startTimer({ driver: this.#inner.name, action });
    try {
      return await op();
    } finally {
      end();
    }
  }

  getContent(path: string): Promise<Buffer> {
    return this.#time('GetContent', () => this.#inner.getContent(path));
  }

  putContent(path: string, content: Uint8Array | string): Promise<void> {
    return this.#time('PutContent', () => this.#inner.putContent(path, content));
  }

  reader(path: string, options?: ReadOptions): Promise<Readable> {
    return this.#time('Reader', () => this.#inner.reader(path, options));
  }

  writer(path: string, options?: { append?: boolean }): Promise<FileWriter> {
    return this.#time('Writer', () => this.#inner.writer(path, options));
  }

  stat(path: string): Promise<FileInfo> {
    return this.#time('Stat', () => this.#inner.stat(path));
  }

  list(path: string): Promise<string[]> {
    return this.#time('List', () => this.#inner.list(path));
  }

  move(source: string, dest: string): Promise<void> {
    return this.#time('Move', () => this.#inner.move(source, dest));
  }

  delete(path: string): Promise<void> {
    return this.#time('Delete', () => this.#inner.delete(path));
  }
}
