// Scope strings of the token specification, the rate limiter and the libtrust key id.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { covers, formatScope, parseScope, parseScopes } from '../../src/auth/scope.js';
import { LoginRateLimiter } from '../../src/auth/rate-limit.js';
import { libtrustKeyId, loadOrCreateSigningKey } from '../../src/auth/token/keys.js';

describe('scopes', () => {
  it('parses repository scopes, names with a registry host and port, and the catalog', () => {
    assert.deepEqual(parseScope('repository:team/app:pull,push'), { type: 'repository', name: 'team/app', actions: ['pull', 'push'] });
    assert.deepEqual(parseScope('repository:localhost:5000/app:pull'), { type: 'repository', name: 'localhost:5000/app', actions: ['pull'] });
    assert.deepEqual(parseScope('registry:catalog:*'), { type: 'registry', name: 'catalog', actions: ['*'] });
    assert.deepEqual(parseScope('repository(plugin):x/y:pull'), { type: 'repository', name: 'x/y', actions: ['pull'] });
    assert.equal(parseScope('nonsense'), undefined);
    assert.equal(parseScope('repository::pull'), undefined);
  });

  it('merges repeated and space-separated scopes', () => {
    assert.deepEqual(parseScopes(['repository:a/b:pull repository:c/d:push', 'repository:a/b:push']), [
      { type: 'repository', name: 'a/b', actions: ['pull', 'push'] },
      { type: 'repository', name: 'c/d', actions: ['push'] },
    ]);
    assert.equal(formatScope({ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }), 'repository:a/b:pull,push');
  });

  it('covers a requirement only with every action, `*` covering all', () => {
    const need = [{ type: 'repository', name: 'a/b', actions: ['pull', 'push'] }];
    assert.equal(covers([{ type: 'repository', name: 'a/b', actions: ['pull'] }], need), false);
    assert.equal(covers([{ type: 'repository', name: 'a/b', actions: ['*'] }], need), true);
    assert.equal(covers([{ type: 'repository', name: 'a/c', actions: ['pull', 'push'] }], need), false);
  });
});

describe('login rate limiter', () => {
  it('blocks a user at one address after the limit until the window passes; others stay free', () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ attempts: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) limiter.failed('bob', '10.0.0.1');
    assert.equal(limiter.retryAfter('bob', '10.0.0.1'), 60);
    assert.equal(limiter.retryAfter('bob', '10.0.0.2'), 0);
    assert.equal(limiter.retryAfter('eve', '10.0.0.1'), 0);
    now = 30_000;
    assert.equal(limiter.retryAfter('bob', '10.0.0.1'), 30);
    now = 60_001;
    assert.equal(limiter.retryAfter('bob', '10.0.0.1'), 0);
  });

  it('blocks an address trying many user names', () => {
    const limiter = new LoginRateLimiter({ attempts: 2, windowMs: 1000, now: () => 0 });
    for (let i = 0; i < 8; i++) limiter.failed(`user${i}`, '10.0.0.9');
    assert.ok(limiter.retryAfter('someone-new', '10.0.0.9') > 0);
  });
});

describe('token signing key', () => {
  it('has a libtrust key id: 12 groups of 4 base32 characters, the same for the private and public key', () => {
    const key = loadOrCreateSigningKey(undefined);
    assert.match(key.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    assert.equal(libtrustKeyId(key.privateKey), key.kid);
  });
});
