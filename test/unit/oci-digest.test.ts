// Digest parsing: the strict `algorithm:hex` grammar that decides what may become a storage path.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Digester, digestOf, isSupportedAlgorithm, tryParseDigest } from '../../src/oci/digest.js';

const HEX64 = createHash('sha256').update('x').digest('hex');
const HEX128 = createHash('sha512').update('x').digest('hex');

describe('tryParseDigest', () => {
  it('parses a sha256 digest into algorithm, hex and canonical value', () => {
    assert.deepEqual(tryParseDigest(`sha256:${HEX64}`), { algorithm: 'sha256', hex: HEX64, value: `sha256:${HEX64}` });
  });

  it('parses a sha512 digest', () => {
    assert.deepEqual(tryParseDigest(`sha512:${HEX128}`), { algorithm: 'sha512', hex: HEX128, value: `sha512:${HEX128}` });
  });

  const table: Array<[string, string, ReturnType<typeof tryParseDigest>]> = [
    ['sha256 with 63 hex characters', `sha256:${HEX64.slice(1)}`, 'bad-length'],
    ['sha256 with 65 hex characters', `sha256:${HEX64}0`, 'bad-length'],
    ['sha256 with a sha512-length hex', `sha256:${HEX128}`, 'bad-length'],
    ['sha512 with a sha256-length hex', `sha512:${HEX64}`, 'bad-length'],
    ['sha256 with an empty-ish hex', 'sha256:0', 'bad-length'],
    ['uppercase hex', `sha256:${HEX64.toUpperCase()}`, 'syntax'],
    ['one uppercase hex digit', `sha256:A${HEX64.slice(1)}`, 'syntax'],
    ['non-hex letters of the right length', `sha256:${'g'.repeat(64)}`, 'syntax'],
    ['an unknown algorithm', `md5:${'a'.repeat(32)}`, 'unsupported-algorithm'],
    ['sha384, which the registry does not support', `sha384:${'a'.repeat(96)}`, 'unsupported-algorithm'],
    ['a prototype property as algorithm', `constructor:${HEX64}`, 'unsupported-algorithm'],
    ['toString as algorithm', `tostring:${HEX64}`, 'unsupported-algorithm'],
    ['an uppercase algorithm', `SHA256:${HEX64}`, 'syntax'],
    ['no colon', HEX64, 'syntax'],
    ['no algorithm', `:${HEX64}`, 'syntax'],
    ['no hex', 'sha256:', 'syntax'],
    ['the empty string', '', 'syntax'],
    ['a trailing newline', `sha256:${HEX64}\n`, 'syntax'],
    ['a leading space', ` sha256:${HEX64}`, 'syntax'],
    ['a path traversal', 'sha256:../../etc/passwd', 'syntax'],
    ['two colons', `sha256::${HEX64}`, 'syntax'],
  ];
  for (const [what, input, expected] of table) {
    it(`rejects ${what} as ${String(expected)}`, () => {
      assert.equal(tryParseDigest(input), expected);
    });
  }
});

describe('isSupportedAlgorithm', () => {
  it('knows sha256 and sha512 and nothing inherited from Object', () => {
    assert.equal(isSupportedAlgorithm('sha256'), true);
    assert.equal(isSupportedAlgorithm('sha512'), true);
    for (const name of ['sha1', 'md5', 'toString', 'constructor', '__proto__', 'hasOwnProperty', '']) {
      assert.equal(isSupportedAlgorithm(name), false, name);
    }
  });
});

describe('digestOf and Digester', () => {
  it('digestOf computes sha256 by default and sha512 on request', () => {
    assert.equal(digestOf('hello').value, `sha256:${createHash('sha256').update('hello').digest('hex')}`);
    const d = digestOf(Buffer.from('hello'), 'sha512');
    assert.equal(d.algorithm, 'sha512');
    assert.equal(d.hex, createHash('sha512').update('hello').digest('hex'));
  });

  it('a digest it computes parses back to itself', () => {
    for (const alg of ['sha256', 'sha512'] as const) {
      const d = digestOf('content', alg);
      assert.deepEqual(tryParseDigest(d.value), d);
    }
  });

  it('the incremental digester matches digestOf and counts bytes, and can continue after digest()', () => {
    const g = new Digester('sha256');
    g.update(Buffer.from('hel'));
    assert.equal(g.digest().value, digestOf('hel').value);
    g.update(Buffer.from('lo'));
    assert.equal(g.size, 5);
    assert.equal(g.digest().value, digestOf('hello').value);
    assert.equal(g.digest().value, digestOf('hello').value, 'digest() twice gives the same answer');
  });
});
