// A storage driver that counts the calls made to it, per method and per path, and forwards them
// to a real one: tests state how many storage round trips an operation costs (a blob GET, a
// manifest PUT) without timing anything.
import type { Readable } from 'node:stream';
import type { FileInfo, FileWriter, ReadOptions, StorageDriver } from '../../src/storage/driver.js';

export type DriverMethod = 'getContent' | 'putContent' | 'reader' | 'writer' | 'stat' | 'list' | 'move' | 'delete';

export interface DriverCall {
  method: DriverMethod;
  path: string;
}

export class CountingDriver implements StorageDriver {
  readonly name: string;
  readonly calls: DriverCall[] = [];
  readonly #inner: StorageDriver;

  constructor(inner: StorageDriver) {
    this.#inner = inner;
    this.name = inner.name;
  }

  /** Calls since the last reset, of one method (all methods without). */
  count(method?: DriverMethod, path?: RegExp): number {
    return this.calls.filter((c) => (method === undefined || c.method === method) && (path === undefined || path.test(c.path))).length;
  }

  reset(): void {
    this.calls.length = 0;
  }

  #seen(method: DriverMethod, path: string): void {
    this.calls.push({ method, path });
  }

  getContent(path: string): Promise<Buffer> {
    this.#seen('getContent', path);
    return this.#inner.getContent(path);
  }

  putContent(path: string, content: Uint8Array | string): Promise<void> {
    this.#seen('putContent', path);
    return this.#inner.putContent(path, content);
  }

  reader(path: string, options?: ReadOptions): Promise<Readable> {
    this.#seen('reader', path);
    return this.#inner.reader(path, options);
  }

  writer(path: string, options?: { append?: boolean }): Promise<FileWriter> {
    this.#seen('writer', path);
    return this.#inner.writer(path, options);
  }

  stat(path: string): Promise<FileInfo> {
    this.#seen('stat', path);
    return this.#inner.stat(path);
  }

  list(path: string): Promise<string[]> {
    this.#seen('list', path);
    return this.#inner.list(path);
  }

  move(source: string, dest: string): Promise<void> {
    this.#seen('move', `${source} -> ${dest}`);
    return this.#inner.move(source, dest);
  }

  delete(path: string): Promise<void> {
    this.#seen('delete', path);
    return this.#inner.delete(path);
  }
}
