// A byte range of one file as a Readable, with a fast path for the one consumer that matters
// for pulls: an HTTP response.
//
// Why not fs.createReadStream: it allocates a fresh Buffer for every read. At 1 GB/s that is
// thousands of new ArrayBuffers a second, and V8 answers the external-memory growth with full
// Mark-Compact GCs (10-18/s measured on a 256 MiB pull, see bench/README.md), which halved pull
// throughput. An HTTP response tells us when it is done with a chunk (the write callback fires
// once the bytes are in the kernel, or encrypted by TLS), so when piped into one this stream reads
// into a few recycled buffers instead. Any other consumer gets fresh buffers, as Readable's
// contract requires (it may keep the chunks).
import { OutgoingMessage } from 'node:http';
import { open, type FileHandle } from 'node:fs/promises';
import { Readable, addAbortSignal, type Writable } from 'node:stream';

/** Chunk size for the recycled buffers of the HTTP fast path (larger reads: fewer syscalls). */
const POOLED_CHUNK_BYTES = 1024 * 1024;
/** Buffers one response may have in flight: one being written while the next is read. */
const POOLED_IN_FLIGHT = 2;
/** Idle recycled buffers kept for the next responses (bounded: this much memory stays resident). */
const POOLED_KEEP = 16;
/** Chunk size of the generic path, whose buffers are handed over for good. */
const FRESH_CHUNK_BYTES = 256 * 1024;

const idle: Buffer[] = [];
const takeBuffer = (): Buffer => idle.pop() ?? Buffer.allocUnsafeSlow(POOLED_CHUNK_BYTES);
const giveBuffer = (buf: Buffer): void => {
  if (idle.length < POOLED_KEEP) idle.push(buf);
};

export class FileRangeStream extends Readable {
  readonly #path: string;
  #position: number;
  readonly #end: number;
  #handle: Promise<FileHandle> | undefined;
  #piped = false;

  /** Bytes [start, endExclusive) of the file at `path` (the caller has checked the range). */
  constructor(path: string, start: number, endExclusive: number, signal?: AbortSignal) {
    super({ highWaterMark: FRESH_CHUNK_BYTES });
    this.#path = path;
    this.#position = start;
    this.#end = endExclusive;
    if (signal) addAbortSignal(signal, this);
  }

  #open(): Promise<FileHandle> {
    this.#handle ??= open(this.#path, 'r');
    return this.#handle;
  }

  /** Reads the next chunk into `buf`; 0 only at the end of the range. */
  async #readInto(buf: Buffer): Promise<number> {
    const want = Math.min(buf.length, this.#end - this.#position);
    if (want <= 0) return 0;
    const handle = await this.#open();
    const { bytesRead } = await handle.read(buf, 0, want, this.#position);
    // The size came from a stat; a file that shrank since must not end the response short silently.
    if (bytesRead === 0) throw new Error(`${this.#path}: file ended ${this.#end - this.#position} bytes early`);
    this.#position += bytesRead;
    return bytesRead;
  }

  override _read(): void {
    const buf = Buffer.allocUnsafe(Math.max(1, Math.min(FRESH_CHUNK_BYTES, this.#end - this.#position)));
    this.#readInto(buf).then(
      (n) => this.push(n === 0 ? null : n === buf.length ? buf : buf.subarray(0, n)),
      (err: Error) => this.destroy(err),
    );
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    const handle = this.#handle;
    if (!handle) return callback(err);
    // close() waits for a read still in flight, so the descriptor is never reused under it.
    handle.then((h) => h.close()).then(() => callback(err), (closeErr: Error) => callback(err ?? closeErr));
  }

  override pipe<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }): T {
    // The fast path only from a fresh stream: once data flowed the normal way, stay on it.
    if (!(dest instanceof OutgoingMessage) || this.#piped || this.readableFlowing !== null || this.readableLength > 0) {
      return super.pipe(dest, options);
    }
    this.#piped = true;
    void this.#writeTo(dest, options?.end !== false);
    return dest;
  }

  async #writeTo(dest: Writable, endDest: boolean): Promise<void> {
    let inFlight = 0;
    let wake: (() => void) | undefined;
    const settle = (): void => {
      const w = wake;
      wake = undefined;
      w?.();
    };
    const gone = (): boolean => this.destroyed || dest.destroyed || dest.writableEnded;
    dest.on('close', settle);
    this.on('close', settle);
    try {
      while (this.#position < this.#end && !gone()) {
        while (inFlight >= POOLED_IN_FLIGHT && !gone()) await new Promise<void>((r) => { wake = r; });
        if (gone()) break;
        const buf = takeBuffer();
        let n: number;
        try {
          n = await this.#readInto(buf);
        } catch (err) {
          giveBuffer(buf);
          throw err;
        }
        if (gone()) {
          giveBuffer(buf);
          break;
        }
        inFlight++;
        dest.write(n === buf.length ? buf : buf.subarray(0, n), (err?: Error | null) => {
          inFlight--;
          // After a failed write the socket may still hold the buffer: leave it to the GC.
          if (!err) giveBuffer(buf);
          settle();
        });
      }
    } catch (err) {
      this.destroy(err as Error);
      return;
    } finally {
      dest.off('close', settle);
      this.off('close', settle);
    }
    if (this.destroyed) return;
    if (this.#position < this.#end) {
      // The response went away first: nobody will read the rest, so release the file now.
      this.destroy();
      return;
    }
    // Finish as a piped stream would: 'end' on this stream, then end the response.
    if (endDest) this.once('end', () => dest.end());
    this.push(null);
    this.resume();
  }
}
