// The running digest of an upload. Two kinds: Node's (OpenSSL, several times faster) whose
// state cannot leave the process, and hash-wasm's, whose state can be saved after each chunk
// and loaded by any replica. The upload service uses the resumable kind only where the data
// cannot be re-read to rebuild a lost state (drivers with pending writes: S3), because on this
// hardware hash-wasm's SHA-256 runs at about a tenth of OpenSSL's speed.
import type { IHasher } from 'hash-wasm';
import { Digester, type Digest, type DigestAlgorithm } from '../oci/digest.js';

export interface UploadHasher {
  readonly algorithm: DigestAlgorithm;
  /** Bytes hashed so far. */
  readonly size: number;
  update(chunk: Uint8Array): void;
  /** The digest so far; the hasher can keep going afterwards. */
  digest(): Digest;
  /** The state to store for another process, or undefined when this kind cannot export it. */
  save(): Uint8Array | undefined;
}

export function inProcessHasher(algorithm: DigestAlgorithm): UploadHasher {
  const d = new Digester(algorithm);
  return {
    algorithm,
    get size() { return d.size; },
    update: (chunk) => d.update(chunk),
    digest: () => d.digest(),
    save: () => undefined,
  };
}

/**
 * A saved state starts with this line, so a state another program left at the same place
 * (Distribution's are Go-marshalled) or a different build of hash-wasm is refused, not misread.
 */
const MAGIC = 'berth-hash-wasm-v1';

export async function resumableHasher(algorithm: DigestAlgorithm, saved?: { state: Uint8Array; size: number }): Promise<UploadHasher> {
  // Loaded on first use: only drivers with pending writes (S3) hash this way.
  const { createSHA256, createSHA512 } = await import('hash-wasm');
  const h: IHasher = algorithm === 'sha256' ? await createSHA256() : await createSHA512();
  h.init();
  let size = 0;
  if (saved) {
    h.load(saved.state);
    size = saved.size;
  }
  return {
    algorithm,
    get size() { return size; },
    update(chunk) {
      h.update(chunk);
      size += chunk.byteLength;
    },
    digest() {
      // hash-wasm's digest ends the hash: keep the state to carry on.
      const state = h.save();
      const hex = h.digest('hex');
      h.load(state);
      return { algorithm, hex, value: `${algorithm}:${hex}` };
    },
    save: () => encodeState(algorithm, size, h.save()),
  };
}

export function encodeState(algorithm: DigestAlgorithm, size: number, state: Uint8Array): Uint8Array {
  return Buffer.concat([Buffer.from(`${MAGIC} ${algorithm} ${size}\n`), state]);
}

/** The state inside a stored file, or undefined when it is not ours or not for `algorithm` at `size`. */
export function decodeState(file: Buffer, algorithm: DigestAlgorithm, size: number): Uint8Array | undefined {
  const nl = file.indexOf(0x0a);
  if (nl < 0 || nl > 100) return undefined;
  if (file.subarray(0, nl).toString('latin1') !== `${MAGIC} ${algorithm} ${size}`) return undefined;
  return file.subarray(nl + 1);
}
