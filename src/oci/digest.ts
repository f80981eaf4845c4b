// Content digests (`algorithm:encoded`): the identity of every blob and manifest.
// Parsing is strict because a digest becomes a storage path.
import { createHash, type Hash } from 'node:crypto';

export const DIGEST_ALGORITHMS = {
  sha256: { hexLength: 64, node: 'sha256' },
  sha512: { hexLength: 128, node: 'sha512' },
} as const;

export type DigestAlgorithm = keyof typeof DIGEST_ALGORITHMS;

export interface Digest {
  readonly algorithm: DigestAlgorithm;
  readonly hex: string;
  /** The canonical `algorithm:hex` form. */
  readonly value: string;
}

const DIGEST_GRAMMAR = /^([a-z0-9]+(?:[.+_-][a-z0-9]+)*):([a-zA-Z0-9=_-]+)$/;

export type DigestParseFailure = 'syntax' | 'unsupported-algorithm' | 'bad-length';

export function tryParseDigest(text: string): Digest | DigestParseFailure {
  const m = DIGEST_GRAMMAR.exec(text);
  if (!m) return 'syntax';
  const algorithm = m[1] as string;
  const hex = m[2] as string;
  if (!isSupportedAlgorithm(algorithm)) return 'unsupported-algorithm';
  const spec = DIGEST_ALGORITHMS[algorithm];
  if (hex.length !== spec.hexLength) return 'bad-length';
  if (!/^[a-f0-9]+$/.test(hex)) return 'syntax';
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}

export function isSupportedAlgorithm(name: string): name is DigestAlgorithm {
  return Object.hasOwn(DIGEST_ALGORITHMS, name);
}

/** Incremental digest computation over a stream of chunks. */
export class Digester {
  readonly algorithm: DigestAlgorithm;
  #hash: Hash;
  #size = 0;

  constructor(algorithm: DigestAlgorithm) {
    this.algorithm = algorithm;
    this.#hash = createHash(DIGEST_ALGORITHMS[algorithm].node);
  }

  update(chunk: Uint8Array): void {
    this.#hash.update(chunk);
    this.#size += chunk.length;
  }

  get size(): number {
    return this.#size;
  }

  /** The digest so far; the digester can keep going afterwards. */
  digest(): Digest {
    const hex = this.#hash.copy().digest('hex');
    return { algorithm: this.algorithm, hex, value: `${this.algorithm}:${hex}` };
  }
}

export function digestOf(data: Uint8Array | string, algorithm: DigestAlgorithm = 'sha256'): Digest {
  const hex = createHash(DIGEST_ALGORITHMS[algorithm].node).update(data).digest('hex');
  return { algorithm, hex, value: `${algorithm}:${hex}` };
}
