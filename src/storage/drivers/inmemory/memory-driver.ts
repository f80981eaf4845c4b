// Storage in process memory (`storage.inmemory`): for tests and throwaway registries. Every call
// completes synchronously inside, so honouring an AbortSignal is checking it on the way in.
import { Readable } from 'node:stream';
import {
  PathNotFoundError, throwIfAborted,
  type ExclusiveCreate, type FileInfo, type FileWriter, type IoOptions, type ReadOptions, type StorageDriver, type WriterOptions,
} from '../../driver.js';

/** Appended chunks are joined lazily, so a write stream of N chunks costs O(N), not O(N^2). */
class MemoryFile {
  #chunks: Buffer[];
  #length: number;
  modTime = new Date();

  constructor(data: Buffer = Buffer.alloc(0)) {
    this.#chunks = [data];
    this.#length = data.length;
  }

  get length(): number {
    return this.#length;
  }

  get data(): Buffer {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks, this.#length)];
    return this.#chunks[0]!;
  }

  truncate(length: number): void {
    this.#chunks = [this.data.subarray(0, length)];
    this.#length = length;
  }

  /** Keeps the chunk itself: the FileWriter contract hands chunks over. */
  append(chunk: Uint8Array): void {
    this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#length += chunk.byteLength;
    this.modTime = new Date();
  }
}

export class MemoryDriver implements StorageDriver, ExclusiveCreate {
  readonly name = 'inmemory';
  readonly #files = new Map<string, MemoryFile>();

  async getContent(path: string, options?: IoOptions): Promise<Buffer> {
    throwIfAborted(options);
    return Buffer.from(this.#file(path).data);
  }

  async putContent(path: string, content: Uint8Array | string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    this.#files.set(path, new MemoryFile(Buffer.from(content)));
  }

  async createExclusive(path: string, content: Uint8Array | string, options?: IoOptions): Promise<boolean> {
    throwIfAborted(options);
    if (this.#files.has(path)) return false;
    this.#files.set(path, new MemoryFile(Buffer.from(content)));
    return true;
  }

  async reader(path: string, options: ReadOptions = {}): Promise<Readable> {
    throwIfAborted(options);
    const { data } = this.#file(path);
    const start = Math.min(options.offset ?? 0, data.length);
    const end = options.length === undefined ? data.length : Math.min(data.length, start + options.length);
    const slice = data.subarray(start, end);
    const chunks: Buffer[] = [];
    for (let i = 0; i < slice.length; i += 64 * 1024) chunks.push(slice.subarray(i, i + 64 * 1024));
    return Readable.from(chunks, { signal: options.signal });
  }

  async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
    throwIfAborted(options);
    const existing = options.append ? this.#files.get(path) : undefined;
    const file = existing ?? new MemoryFile();
    this.#files.set(path, file);
    const fresh = !existing;
    const initialSize = file.length;
    const files = this.#files;
    return {
      get size() {
        return file.length;
      },
      async write(chunk) {
        file.append(chunk);
      },
      async commit() {},
      async close() {},
      async cancel() {
        if (fresh) files.delete(path);
        else file.truncate(initialSize);
      },
    };
  }

  async stat(path: string, options?: IoOptions): Promise<FileInfo> {
    throwIfAborted(options);
    const file = this.#files.get(path);
    if (file) return { path, size: file.length, modTime: file.modTime, isDir: false };
    const prefix = `${path}/`;
    let newest: Date | undefined;
    for (const [p, f] of this.#files) {
      if (p.startsWith(prefix) && (!newest || f.modTime > newest)) newest = f.modTime;
    }
    if (!newest) throw new PathNotFoundError(path);
    return { path, size: 0, modTime: newest, isDir: true };
  }

  async list(path: string, options?: IoOptions): Promise<string[]> {
    throwIfAborted(options);
    const prefix = path === '/' ? '/' : `${path}/`;
    const children = new Set<string>();
    for (const p of this.#files.keys()) {
      if (!p.startsWith(prefix)) continue;
      const name = p.slice(prefix.length).split('/')[0]!;
      children.add(`${prefix}${name}`);
    }
    if (children.size === 0 && path !== '/') throw new PathNotFoundError(path);
    return [...children];
  }

  async move(source: string, dest: string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    const file = this.#file(source);
    if (source === dest) return;
    this.#files.set(dest, file);
    this.#files.delete(source);
  }

  async delete(path: string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    const prefix = `${path}/`;
    let found = this.#files.delete(path);
    for (const p of [...this.#files.keys()]) {
      if (p.startsWith(prefix)) found = this.#files.delete(p) || found;
    }
    if (!found) throw new PathNotFoundError(path);
  }

  #file(path: string): MemoryFile {
    const file = this.#files.get(path);
    if (!file) throw new PathNotFoundError(path);
    return file;
  }
}
