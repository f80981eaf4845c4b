// `bandwidth`: one budget of bytes per second shared by every blob a run moves. Each chunk is
// let through when the budget allows; the stream stays a stream (nothing is held whole).
import { Transform, type Readable } from 'node:stream';
import type { Descriptor, ImageSource, ManifestData } from '../transport/types.js';

export class Bandwidth {
  readonly #bytesPerSecond: number;
  #nextFree = 0;

  constructor(bytesPerSecond: number) {
    this.#bytesPerSecond = bytesPerSecond;
  }

  /** Milliseconds to wait before sending `bytes`, booking them. */
  book(bytes: number, now = Date.now()): number {
    const start = Math.max(now, this.#nextFree);
    this.#nextFree = start + (bytes / this.#bytesPerSecond) * 1000;
    return start - now;
  }

  stream(): Transform {
    return new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        const wait = this.book(chunk.length);
        if (wait <= 0) done(null, chunk);
        else setTimeout(() => done(null, chunk), wait);
      },
    });
  }
}

/** `source` with every blob read through `bandwidth`. */
export function throttled(source: ImageSource, bandwidth: Bandwidth): ImageSource {
  return {
    description: source.description,
    getManifest: (digest?: string): Promise<ManifestData> => source.getManifest(digest),
    async getBlob(desc: Descriptor): Promise<Readable> {
      const raw = await source.getBlob(desc);
      const out = raw.pipe(bandwidth.stream());
      raw.on('error', (err) => out.destroy(err));
      return out;
    },
    ...(source.referrers ? { referrers: (digest: string) => source.referrers!(digest) } : {}),
    close: () => source.close(),
  };
}
