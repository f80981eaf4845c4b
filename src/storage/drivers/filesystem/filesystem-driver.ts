// The embedded default: files under a root directory, laid out exactly as Distribution lays them.
// AbortSignals: fs calls that accept one get it (writeFile); the others are checked
// between steps, and a reader's stream is destroyed when its signal aborts.
import { mkdir, open, readdir, rename, rm, rmdir, stat, truncate, writeFile, type FileHandle } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { randomUUID } from 'node:crypto';
import type { Readable } from 'node:stream';
import { FileRangeStream } from './file-range-stream.js';
import { readWholeFile } from './read-whole-file.js';
import {
  PathNotFoundError, throwIfAborted,
  type ExclusiveCreate, type FileInfo, type FileWriter, type IoOptions, type ReadOptions, type StorageDriver, type WriterOptions,
} from '../../driver.js';

/** Small HTTP chunks are gathered into writes of this size to keep syscalls few. */
const WRITE_BATCH_BYTES = 256 * 1024;

export class FilesystemDriver implements StorageDriver, ExclusiveCreate {
  readonly name = 'filesystem';
  readonly #root: string;

  constructor(rootDirectory: string) {
    this.#root = rootDirectory;
  }

  #full(path: string): string {
    return join(this.#root, path);
  }

  async getContent(path: string, options?: IoOptions): Promise<Buffer> {
    try {
      return await readWholeFile(this.#full(path), options?.signal);
    } catch (err) {
      throw translate(err, path);
    }
  }

  async putContent(path: string, content: Uint8Array | string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    const full = this.#full(path);
    const created = await mkdir(dirname(full), { recursive: true });
    const temp = `${full}.berth-tmp-${randomUUID()}`;
    try {
      // An abort during the write leaves only the temporary file, removed below.
      await writeFile(temp, content, { signal: options?.signal });
      throwIfAborted(options);
      await rename(temp, full);
    } catch (err) {
      await rm(temp, { force: true });
      await removeCreatedDirs(dirname(full), created);
      throw err;
    }
  }

  async createExclusive(path: string, content: Uint8Array | string, options?: IoOptions): Promise<boolean> {
    throwIfAborted(options);
    const full = this.#full(path);
    await mkdir(dirname(full), { recursive: true });
    throwIfAborted(options);
    try {
      // No signal past this point: an O_EXCL file cut short would be a half-written lock.
      await writeFile(full, content, { flag: 'wx' });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  async reader(path: string, options: ReadOptions = {}): Promise<Readable> {
    const info = await this.stat(path, options);
    if (info.isDir) throw new PathNotFoundError(path);
    const start = options.offset ?? 0;
    const endExclusive = options.length === undefined ? info.size : Math.min(info.size, start + options.length);
    return new FileRangeStream(this.#full(path), start, Math.max(start, endExclusive), options.signal);
  }

  async writer(path: string, options: WriterOptions = {}): Promise<FileWriter> {
    throwIfAborted(options);
    const full = this.#full(path);
    await mkdir(dirname(full), { recursive: true });
    throwIfAborted(options);
    const handle = await open(full, options.append ? 'a' : 'w');
    const writer = new FilesystemWriter(handle, full, (await handle.stat()).size, !options.append);
    if (options.signal?.aborted) {
      // Opened meanwhile: undo the open (a fresh file goes, an append is left as it was).
      await writer.cancel();
      options.signal.throwIfAborted();
    }
    return writer;
  }

  async stat(path: string, options?: IoOptions): Promise<FileInfo> {
    throwIfAborted(options);
    try {
      const s = await stat(this.#full(path));
      return { path, size: s.isDirectory() ? 0 : s.size, modTime: s.mtime, isDir: s.isDirectory() };
    } catch (err) {
      throw translate(err, path);
    }
  }

  async list(path: string, options?: IoOptions): Promise<string[]> {
    throwIfAborted(options);
    try {
      const entries = await readdir(this.#full(path));
      const prefix = path === '/' ? '' : path;
      return entries.filter((e) => !e.includes('.berth-tmp-')).map((e) => `${prefix}/${e}`);
    } catch (err) {
      throw translate(err, path);
    }
  }

  async move(source: string, dest: string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    const to = this.#full(dest);
    await mkdir(dirname(to), { recursive: true });
    throwIfAborted(options);
    try {
      await rename(this.#full(source), to);
    } catch (err) {
      throw translate(err, source);
    }
  }

  async delete(path: string, options?: IoOptions): Promise<void> {
    throwIfAborted(options);
    const full = this.#full(path);
    if (full === this.#root || full === join(this.#root, '/')) {
      await stat(full).catch((err: unknown) => { throw translate(err, path); });
      await rm(full, { recursive: true, force: true });
      return;
    }
    // Renamed aside, then removed: readers see the entry vanish at once, and a process killed
    // during the removal leaves a hidden temporary (list() skips it, temp-file-sweep.ts removes
    // it), never a half-removed directory such as a blob's directory without its data.
    const aside = `${full}.berth-tmp-${randomUUID()}`;
    try {
      await rename(full, aside);
    } catch (err) {
      throw translate(err, path);
    }
    await rm(aside, { recursive: true, force: true });
  }
}

class FilesystemWriter implements FileWriter {
  readonly #handle: FileHandle;
  readonly #path: string;
  readonly #fresh: boolean;
  #pending: Buffer[] = [];
  #pendingBytes = 0;
  readonly #initialSize: number;
  #size: number;
  #closed = false;

  constructor(handle: FileHandle, path: string, size: number, fresh: boolean) {
    this.#handle = handle;
    this.#path = path;
    this.#size = size;
    this.#initialSize = size;
    this.#fresh = fresh;
  }

  get size(): number {
    return this.#size;
  }

  async write(chunk: Uint8Array): Promise<void> {
    // Held without a copy until the batch is written: the FileWriter contract hands chunks over.
    this.#pending.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    this.#pendingBytes += chunk.byteLength;
    this.#size += chunk.byteLength;
    if (this.#pendingBytes >= WRITE_BATCH_BYTES) await this.#flush();
  }

  async #flush(): Promise<void> {
    if (this.#pendingBytes === 0) return;
    const buffers = this.#pending;
    this.#pending = [];
    this.#pendingBytes = 0;
    await writeAll(this.#handle, buffers);
  }

  async commit(): Promise<void> {
    await this.close();
  }

  async cancel(): Promise<void> {
    this.#pending = [];
    this.#pendingBytes = 0;
    if (this.#fresh) {
      await this.#closeHandle();
      await rm(this.#path, { force: true });
    } else if (this.#closed) {
      // Also after close() or a commit() whose final flush failed: the append is still undone.
      await truncate(this.#path, this.#initialSize);
    } else {
      await this.#handle.truncate(this.#initialSize);
      await this.#closeHandle();
    }
    this.#size = this.#initialSize;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    try {
      await this.#flush();
    } finally {
      await this.#closeHandle();
    }
  }

  async #closeHandle(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#handle.close();
  }
}

/**
 * One writev(2) for a batch of chunks (no concatenation copy). It may write less than asked
 * (a signal, a nearly full disk); the rest is written, never dropped.
 */
async function writeAll(handle: FileHandle, buffers: Buffer[]): Promise<void> {
  let rest = buffers;
  while (rest.length > 0) {
    const { bytesWritten } = await handle.writev(rest);
    if (bytesWritten === 0) throw new Error('write made no progress');
    rest = dropWritten(rest, bytesWritten);
  }
}

function dropWritten(buffers: Buffer[], written: number): Buffer[] {
  let skip = written;
  let i = 0;
  while (i < buffers.length && skip >= buffers[i]!.length) skip -= buffers[i++]!.length;
  if (i === buffers.length) return [];
  return [buffers[i]!.subarray(skip), ...buffers.slice(i + 1)];
}

/**
 * Undoes the directories a failed write created (a full disk must not leave an empty upload
 * session behind), from `dir` up to `created`, the first one mkdir made. Only empty ones go:
 * another request may have written into them meanwhile.
 */
async function removeCreatedDirs(dir: string, created: string | undefined): Promise<void> {
  if (created === undefined) return;
  for (let d = dir; d.length >= created.length; d = dirname(d)) {
    if (!(await rmdir(d).then(() => true, () => false))) return;
    if (d === created) return;
  }
}

function translate(err: unknown, path: string): unknown {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'EISDIR') return new PathNotFoundError(path);
  return err;
}
