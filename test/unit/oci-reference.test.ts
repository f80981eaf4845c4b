// Repository name and tag grammar (distribution-spec), checked before anything reaches storage.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { isValidName, isValidTag, looksLikeDigest, MAX_NAME_LENGTH } from '../../src/oci/reference.js';

describe('repository name grammar', () => {
  const valid = [
    'a', '0', 'ubuntu', 'library/ubuntu', 'team/app/component', 'a.b', 'a_b', 'a__b', 'a-b', 'a--b', 'a---b',
    'a1/b2/c3', 'foo.bar/baz_qux-1', 'x'.repeat(MAX_NAME_LENGTH), `${'a'.repeat(127)}/${'b'.repeat(127)}`,
  ];
  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    ['../x', 'a parent reference'],
    ['a/../b', 'a parent reference inside'],
    ['a/./b', 'a dot component'],
    ['..', 'dot-dot alone'],
    ['.a', 'a leading dot'],
    ['A', 'an uppercase letter'],
    ['Library/ubuntu', 'an uppercase component'],
    ['a//b', 'an empty component'],
    ['a/', 'a trailing slash'],
    ['/a', 'a leading slash'],
    ['a___b', 'three underscores'],
    ['a..b', 'two dots'],
    ['a._b', 'mixed separators'],
    ['a.', 'a trailing dot'],
    ['a-', 'a trailing dash'],
    ['-a', 'a leading dash'],
    ['_a', 'a leading underscore'],
    ['a b', 'a space'],
    ['a:b', 'a colon'],
    ['a@b', 'an at sign'],
    ['a\nb', 'a newline'],
    ['é', 'a non-ASCII letter'],
    ['x'.repeat(MAX_NAME_LENGTH + 1), '256 characters'],
    [`${'a'.repeat(128)}/${'b'.repeat(127)}`, '256 characters over two components'],
  ];

  for (const name of valid) {
    it(`accepts ${name.length > 40 ? `a name of ${name.length} characters` : JSON.stringify(name)}`, () => {
      assert.equal(isValidName(name), true);
    });
  }
  for (const [name, why] of invalid) {
    it(`rejects ${name.length > 40 ? `a name of ${name.length} characters` : JSON.stringify(name)} (${why})`, () => {
      assert.equal(isValidName(name), false);
    });
  }

  it('has 255 as its length limit', () => {
    assert.equal(MAX_NAME_LENGTH, 255);
  });
});

describe('tag grammar', () => {
  const valid = ['latest', 'v1', 'v1.2.3', '1.0-rc.1', '_private', 'UPPER', 'a', 'x'.repeat(128), 'sha256-abc.sig', 'a__b--c..d'];
  const invalid: Array<[string, string]> = [
    ['', 'empty'],
    ['x'.repeat(129), '129 characters'],
    ['.hidden', 'a leading dot'],
    ['-flag', 'a leading dash'],
    ['a:b', 'a colon'],
    ['a/b', 'a slash'],
    ['a b', 'a space'],
    ['v1+build', 'a plus'],
    ['v1\n', 'a trailing newline'],
    ['é', 'a non-ASCII letter'],
  ];
  for (const tag of valid) {
    it(`accepts ${tag.length > 40 ? `a tag of ${tag.length} characters` : JSON.stringify(tag)}`, () => {
      assert.equal(isValidTag(tag), true);
    });
  }
  for (const [tag, why] of invalid) {
    it(`rejects ${tag.length > 40 ? `a tag of ${tag.length} characters` : JSON.stringify(tag)} (${why})`, () => {
      assert.equal(isValidTag(tag), false);
    });
  }
});

describe('looksLikeDigest', () => {
  it('takes a reference with a colon for a digest and any tag for a tag', () => {
    assert.equal(looksLikeDigest('sha256:abc'), true);
    assert.equal(looksLikeDigest('latest'), false);
    assert.equal(looksLikeDigest('sha256-abc'), false);
  });
});
