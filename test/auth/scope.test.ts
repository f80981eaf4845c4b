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
  const fail = (limiter: LoginRateLimiter, user: string, address: string) => assert.ok(limiter.reserve(user, address).ok);
  const wait = (limiter: LoginRateLimiter, user: string, address: string) => {
    const r = limiter.reserve(user, address);
    return r.ok ? 0 : r.retryAfter;
  };

  it('blocks a user at one address after the limit until the window passes; others stay free', () => {
    let now = 0;
    const limiter = new LoginRateLimiter({ attempts: 3, windowMs: 60_000, now: () => now });
    for (let i = 0; i < 3; i++) fail(limiter, 'bob', '10.0.0.1');
    assert.equal(wait(limiter, 'bob', '10.0.0.1'), 60);
    assert.equal(wait(limiter, 'bob', '10.0.0.2'), 0);
    assert.equal(wait(limiter, 'eve', '10.0.0.1'), 0);
    now = 30_000;
    assert.equal(wait(limiter, 'bob', '10.0.0.1'), 30);
    now = 60_001;
    assert.equal(wait(limiter, 'bob', '10.0.0.1'), 0);
  });

  it('blocks an address trying many user names', () => {
    const limiter = new LoginRateLimiter({ attempts: 2, windowMs: 1000, now: () => 0 });
    for (let i = 0; i < 8; i++) fail(limiter, `user${i}`, '10.0.0.9');
    assert.ok(wait(limiter, 'someone-new', '10.0.0.9') > 0);
  });

  it('counts an attempt when it is reserved, so concurrent attempts cannot pass the limit; a success takes it back', () => {
    const limiter = new LoginRateLimiter({ attempts: 3, windowMs: 60_000, now: () => 0 });
    const granted = Array.from({ length: 10 }, () => limiter.reserve('bob', '10.0.0.1')).filter((r) => r.ok);
    assert.equal(granted.length, 3, 'no check has finished yet, and still only three may run');
    limiter.succeeded('bob', '10.0.0.1', granted[0]!);
    assert.ok(limiter.reserve('bob', '10.0.0.1').ok, 'a correct password clears the pair');
  });

  it('lets a user that logged in from an address through even when that address or that user is busy with failures', () => {
    const limiter = new LoginRateLimiter({ attempts: 2, windowMs: 60_000, now: () => 0 });
    const first = limiter.reserve('carol', '192.0.2.7');
    limiter.succeeded('carol', '192.0.2.7', first);
    for (let i = 0; i < 8; i++) fail(limiter, `guess${i}`, '192.0.2.7');
    for (let i = 0; i < 8; i++) fail(limiter, 'carol', `198.51.100.${i}`);
    assert.ok(wait(limiter, 'dave', '192.0.2.7') > 0, 'someone new behind the busy address waits');
    assert.ok(wait(limiter, 'carol', '203.0.113.1') > 0, 'carol from a new place waits while she is guessed at');
    assert.equal(wait(limiter, 'carol', '192.0.2.7'), 0, 'carol from where she logged in before gets through');
  });
});

describe('token signing key', () => {
  it('has a libtrust key id: 12 groups of 4 base32 characters, the same for the private and public key', () => {
    const key = loadOrCreateSigningKey(undefined);
    assert.match(key.kid, /^([A-Z2-7]{4}:){11}[A-Z2-7]{4}$/);
    assert.equal(libtrustKeyId(key.privateKey), key.kid);
  });
});
