// Reading credentials from an Authorization header, once for every endpoint.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { credentialsOf } from '../../src/auth/credentials.js';

const b64 = (s: string) => Buffer.from(s).toString('base64');

describe('credentials of an Authorization header', () => {
  it('reads Basic user and password (the password may hold colons) and Bearer tokens', () => {
    assert.deepEqual(credentialsOf(`Basic ${b64('bob:pa:ss')}`), { kind: 'basic', user: 'bob', password: 'pa:ss' });
    assert.deepEqual(credentialsOf('Bearer abc.def.ghi '), { kind: 'bearer', token: 'abc.def.ghi' });
  });

  it('finds none in an empty header, `Basic Og==` (":" from clients without credentials), a value without a colon, or another scheme', () => {
    for (const header of [undefined, '', 'Basic Og==', `Basic ${b64('nocolon')}`, 'Digest username="bob"']) {
      assert.equal(credentialsOf(header), undefined, String(header));
    }
  });
});
