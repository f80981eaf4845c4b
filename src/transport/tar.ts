// Tarballs for the archive transports, streamed with tar-stream: a writer that appends entries
// one at a time (concurrent callers queue), and an extractor that unpacks into a directory,
// refusing entries that would land outside it.
import { createReadStream, createWriteStream } from 'node:fs';
import { mkdir, symlink } from 'node:fs/promises';
import { dirname, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import tar from 'tar-stream';

const EPOCH = new Date(0);

export class TarWriter {
  readonly #pack = tar.pack();
  readonly #done: Promise<void>;
  #queue: Promise<void> = Promise.resolve();
  readonly names = new Set<string>();

  constructor(file: string) {
    this.#done = pipeline(this.#pack, createWriteStream(file));
    this.#done.catch(() => undefined);
  }

  /** Appends one file entry from a stream of exactly `size` bytes. */
  add(name: string, size: number, open: () => Promise<Readable>): Promise<void> {
    const run = this.#queue.then(async () => {
      if (this.names.has(name)) return;
      const source = await open();
      const entry = this.#pack.entry({ name, size, mode: 0o644, mtime: EPOCH, type: 'file' });
      await pipeline(source, entry);
      this.names.add(name);
    });
    this.#queue = run.catch(() => undefined);
    return run;
  }

  addBuffer(name: string, data: Buffer): Promise<void> {
    return this.add(name, data.length, async () => Readable.from([data]));
  }

  async finish(): Promise<void> {
    await this.#queue;
    this.#pack.finalize();
    await this.#done;
  }

  abort(): void {
    this.#pack.destroy();
  }
}

/** Unpacks regular files, directories and in-tree symlinks of `file` under `dir`. */
export async function extractTar(file: string, dir: string): Promise<void> {
  const root = resolve(dir);
  const extract = tar.extract();
  const reading = pipeline(createReadStream(file), extract);
  reading.catch(() => undefined);
  for await (const entry of extract) {
    const target = resolve(root, entry.header.name);
    if (target !== root && !target.startsWith(root + sep)) throw new Error(`${file}: entry ${entry.header.name} points outside the archive`);
    if (entry.header.type === 'directory') {
      await mkdir(target, { recursive: true });
      entry.resume();
    } else if (entry.header.type === 'file' || entry.header.type === 'contiguous-file') {
      await mkdir(dirname(target), { recursive: true });
      await pipeline(entry, createWriteStream(target));
    } else if (entry.header.type === 'symlink' && entry.header.linkname) {
      // docker save links repeated layers to the first copy: allowed while it stays inside.
      const linked = resolve(dirname(target), entry.header.linkname);
      if (!linked.startsWith(root + sep)) throw new Error(`${file}: link ${entry.header.name} points outside the archive`);
      await mkdir(dirname(target), { recursive: true });
      await symlink(entry.header.linkname, target);
      entry.resume();
    } else {
      entry.resume();
    }
  }
  await reading;
}

