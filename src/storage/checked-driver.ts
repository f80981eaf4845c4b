// Wraps any driver so that no path outside the grammar (`..`, empty parts, odd characters)
// and no negative offset ever reaches it, whatever the caller's bug. Violations reject the
// returned promise (they never throw synchronously), like any other driver failure.
import type { Readable } from 'node:stream';
import {
  assertValidPath, hasPendingWrites, InvalidOffsetError, type PendingWrites,
  type FileInfo, type FileWriter, type ReadOptions, type StorageDriver,
} from './driver.js';

export class CheckedDriver implements StorageDriver {
  readonly #inner: StorageDriver;

  constructor(inner: StorageDriver) {
    this.#inner = inner;
    // Optional capabilities are found by type guard: offer one exactly when the inner driver has it.
    if (hasPendingWrites(inner)) {
      (this as unknown as PendingWrites).pendingSize = async (path) => {
        assertValidPath(path);
        return inner.pendingSize(path);
      };
    }
  }

  get name(): string {
    return this.#inner.name;
  }

  /** The wrapped driver, where optional capabilities (exclusive-create.ts) are found. */
  get inner(): StorageDriver {
    return this.#inner;
  }

  async getContent(path: string): Promise<Buffer> {
    assertValidPath(path);
    return this.#inner.getContent(path);
  }

  async putContent(path: string, content: Uint8Array | string): Promise<void> {
    assertValidPath(path);
    return this.#inner.putContent(path, content);
  }

  async reader(path: string, options: ReadOptions = {}): Promise<Readable> {
    assertValidPath(path);
    const { offset = 0, length } = options;
    if (!Number.isSafeInteger(offset) || offset < 0) throw new InvalidOffsetError(path, offset);
    if (length !== undefined && (!Number.isSafeInteger(length) || length < 0)) throw new InvalidOffsetError(path, length);
    return this.#inner.reader(path, options);
  }

  async writer(path: string, options?: { append?: boolean }): Promise<FileWriter> {
    assertValidPath(path);
    return this.#inner.writer(path, options);
  }

  async stat(path: string): Promise<FileInfo> {
    assertValidPath(path);
    return this.#inner.stat(path);
  }

  async list(path: string): Promise<string[]> {
    if (path !== '/') assertValidPath(path);
    return this.#inner.list(path);
  }

  async move(source: string, dest: string): Promise<void> {
    assertValidPath(source);
    assertValidPath(dest);
    return this.#inner.move(source, dest);
  }

  async delete(path: string): Promise<void> {
    assertValidPath(path);
    return this.#inner.delete(path);
  }
}
