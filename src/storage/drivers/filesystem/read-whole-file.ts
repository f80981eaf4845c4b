// Whole-file reads in as few thread-pool round trips as possible. `fs.promises.readFile` costs
// four (open, fstat, read, close), each a hop to a libuv thread and back to the event loop; a
// manifest HEAD reads three small files (tag link, revision link, manifest), and those twelve hops
// were most of its CPU (bench/README.md, issue 22). A first read into a buffer large enough for
// link files and most manifests ends at end of file, so no fstat is needed: three hops per file.
// The callback API on a plain descriptor, not fs/promises' FileHandle: a FileHandle is a native
// object tracked for the GC, and open/read/close through it cost twice the CPU (66 vs 32 us per
// small file measured on this machine's pinned core).
import { close, open, read } from 'node:fs';

/** Links are 71 bytes, manifests mostly a few KiB: one read answers almost every small file. */
const FIRST_READ_BYTES = 16 * 1024;
/** Later reads of a larger file: at least this much at a time. */
const NEXT_READ_BYTES = 256 * 1024;
/** Scratch buffers for first reads, kept for reuse (their bytes are copied out). */
const SPARE_KEEP = 8;
const spare: Buffer[] = [];

export async function readWholeFile(path: string, signal?: AbortSignal): Promise<Buffer> {
  signal?.throwIfAborted();
  const fd = await new Promise<number>((resolve, reject) => open(path, 'r', (err, fd) => (err ? reject(err) : resolve(fd))));
  const scratch = spare.pop() ?? Buffer.allocUnsafeSlow(FIRST_READ_BYTES);
  try {
    const bytesRead = await readAt(fd, scratch, 0);
    // A regular file reads short only at its end.
    if (bytesRead < scratch.length) return Buffer.from(scratch.subarray(0, bytesRead));
    const chunks = [Buffer.from(scratch)];
    let total = bytesRead;
    for (;;) {
      signal?.throwIfAborted();
      const buf = Buffer.allocUnsafe(Math.max(NEXT_READ_BYTES, total));
      const n = await readAt(fd, buf, total);
      if (n === 0) break;
      chunks.push(buf.subarray(0, n));
      total += n;
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (spare.length < SPARE_KEEP) spare.push(scratch);
    await new Promise<void>((resolve, reject) => close(fd, (err) => (err ? reject(err) : resolve())));
  }
}

function readAt(fd: number, buf: Buffer, position: number): Promise<number> {
  return new Promise((resolve, reject) => read(fd, buf, 0, buf.length, position, (err, n) => (err ? reject(err) : resolve(n))));
}
