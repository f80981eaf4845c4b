// Bytes checked against the digest they were asked for, on the way through: pulls, pushes and
// the archive writers use the same check. Its own file so blob-push.ts and registry-client.ts
// share it without importing each other.
import { Transform, type TransformCallback } from 'node:stream';
import { Digester, tryParseDigest, type DigestAlgorithm } from '../oci/digest.js';
import { DigestMismatchError } from './errors.js';

/** The algorithm a digest string names, or undefined when it is not a digest Berth can compute. */
export function algorithmOf(digest: string | undefined): DigestAlgorithm | undefined {
  if (!digest) return undefined;
  const parsed = tryParseDigest(digest);
  return typeof parsed === 'string' ? undefined : parsed.algorithm;
}

/** A pass-through that fails at the end unless the bytes hash to `expected`. */
export function verifyingStream(expected: string, what: string): Transform {
  const algorithm = algorithmOf(expected);
  if (!algorithm) throw new Error(`${what}: unsupported digest ${expected}`);
  const digester = new Digester(algorithm);
  return new Transform({
    transform(chunk: Buffer, _enc, done: TransformCallback) {
      digester.update(chunk);
      done(null, chunk);
    },
    flush(done: TransformCallback) {
      const actual = digester.digest().value;
      done(actual === expected ? null : new DigestMismatchError(expected, actual, what));
    },
  });
}
