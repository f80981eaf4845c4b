// The two kinds of upload hash: the resumable one's saved state, loaded elsewhere, carries on to
// the same digest as hashing everything in one go, and a state that is not ours is refused.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { decodeState, encodeState, inProcessHasher, resumableHasher } from '../../src/registry/upload-hasher.js';

describe('upload hashers', () => {
  for (const algorithm of ['sha256', 'sha512'] as const) {
    it(`a saved ${algorithm} state, loaded by a new hasher, ends at the digest of all the bytes`, async () => {
      const a = randomBytes(100_003);
      const b = randomBytes(77_777);
      const first = await resumableHasher(algorithm);
      first.update(a);
      assert.equal(first.digest().value, `${algorithm}:${createHash(algorithm).update(a).digest('hex')}`, 'digest so far');
      const saved = first.save()!;
      const state = decodeState(Buffer.from(saved), algorithm, a.length);
      assert.ok(state);
      const second = await resumableHasher(algorithm, { state, size: a.length });
      second.update(b);
      assert.equal(second.size, a.length + b.length);
      assert.equal(second.digest().value, `${algorithm}:${createHash(algorithm).update(a).update(b).digest('hex')}`);
    });
  }

  it('refuses a state for another size or algorithm, and one it did not write (Distribution\'s Go state)', async () => {
    const h = await resumableHasher('sha256');
    h.update(Buffer.from('abc'));
    const saved = Buffer.from(h.save()!);
    assert.equal(decodeState(saved, 'sha256', 4), undefined);
    assert.equal(decodeState(saved, 'sha512', 3), undefined);
    assert.equal(decodeState(Buffer.concat([Buffer.from('sha\x03'), randomBytes(104)]), 'sha256', 3), undefined);
    assert.ok(decodeState(Buffer.from(encodeState('sha256', 3, new Uint8Array([1, 2]))), 'sha256', 3));
  });

  it('the in-process hasher cannot save its state, and keeps going after a digest', () => {
    const h = inProcessHasher('sha256');
    h.update(Buffer.from('ab'));
    h.digest();
    h.update(Buffer.from('c'));
    assert.equal(h.save(), undefined);
    assert.equal(h.digest().hex, createHash('sha256').update('abc').digest('hex'));
  });
});
