// Access control on proxied names: a pull that the cache serves from another stored repository
// (`myorg/x?ns=ghcr.io` is stored as `ghcr/myorg/x`; the root rule stores `myorg/x` as
// `hub/myorg/x`) needs pull rights on that stored name too, so an operator restricting project
// `ghcr` or `hub` is obeyed whatever name the client asks for, and nothing is fetched upstream
// for a refused caller. Judged from roles with htpasswd, with built-in tokens (which name only
// the requested repository, as ctr's do), and from the claims of an external token server.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SignJWT, exportJWK } from 'jose';
import { PASSWORD, basic, image, pushWith, token, type AuthRegistry } from '../auth/support.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { call, pullAs, startAuthMirror, startUpstream, type Upstream } from './support/auth-mirror.js';

const BOB = basic('bob', PASSWORD);
const DEV = basic('dev', PASSWORD);
const bearer = (t: string) => `Bearer ${t}`;
const NS = 'myorg/x/manifests/v1?ns=ghcr.io';
const ROOT = 'myorg/x/manifests/v1';

/** Projects myorg, ghcr and hub (all private); bob pulls from myorg only, dev pushes to myorg. */
async function seedProjects(mirror: AuthRegistry): Promise<void> {
  for (const p of ['myorg', 'ghcr', 'hub']) await mirror.store.addProject(p);
  await mirror.store.addUser('bob', PASSWORD);
  await mirror.store.addUser('dev', PASSWORD);
  await mirror.store.setMember('myorg', 'bob', 'guest');
  await mirror.store.setMember('myorg', 'dev', 'developer');
}

describe('proxied names with htpasswd auth, projects and roles', () => {
  let up: Upstream;
  let mirror: AuthRegistry;

  before(async () => {
    up = await startUpstream();
    mirror = await startAuthMirror('basic', up.counter);
    await seedProjects(mirror);
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
  });

  it('refuses the ns-mapped name to a user without pull on ghcr, and fetches nothing upstream', async () => {
    up.counter.reset();
    for (const [path, method] of [[NS, 'GET'], [NS, 'HEAD'], [`myorg/x/blobs/${up.img.layer.digest}?ns=ghcr.io`, 'GET'], ['myorg/x/tags/list?ns=ghcr.io', 'GET']] as const) {
      const res = await call(mirror.url, path, BOB, method);
      assert.equal(res.status, 403, `${method} ${path}`);
      if (method === 'GET') {
        assert.deepEqual(res.codes, ['DENIED']);
        assert.match(res.body, /ghcr\/myorg\/x/);
      }
    }
    assert.equal((await call(mirror.url, 'ghcr/myorg/x/manifests/v1', BOB)).status, 403);
    assert.deepEqual(up.counter.seen, []);
  });

  it('challenges an anonymous caller when myorg is public but ghcr is not, and fetches nothing upstream', async () => {
    await mirror.store.setProject('myorg', { public: true });
    try {
      up.counter.reset();
      const res = await call(mirror.url, NS, undefined);
      assert.equal(res.status, 401);
      assert.equal(res.challenge, 'Basic realm="berth-test"');
      assert.deepEqual(up.counter.seen, []);
    } finally {
      await mirror.store.setProject('myorg', { public: false });
    }
  });

  it('serves the ns-mapped name once the user may pull from ghcr', async () => {
    await mirror.store.setMember('ghcr', 'bob', 'guest');
    up.counter.reset();
    await pullAs(mirror.url, 'myorg/x', '?ns=ghcr.io', BOB, up.img);
    assert.equal(up.counter.count('GET', /\/v2\/myorg\/x\/manifests\/v1$/), 1);
  });

  it('refuses the root-rule name to a user without pull on hub, and fetches nothing upstream', async () => {
    up.counter.reset();
    const res = await call(mirror.url, ROOT, BOB);
    assert.deepEqual([res.status, res.codes], [403, ['DENIED']]);
    assert.match(res.body, /hub\/myorg\/x/);
    assert.deepEqual(up.counter.seen, []);
  });

  it('serves the root-rule name once the user may pull from hub', async () => {
    await mirror.store.setMember('hub', 'bob', 'guest');
    up.counter.reset();
    await pullAs(mirror.url, 'myorg/x', '', BOB, up.img);
    assert.equal(up.counter.count('GET', /\/v2\/myorg\/x\/manifests\/v1$/), 1);
  });

  it('lets an htpasswd user (full access, as in Distribution) pull both', async () => {
    const alice = basic('alice', PASSWORD);
    await pullAs(mirror.url, 'myorg/x', '?ns=ghcr.io', alice, up.img);
    await pullAs(mirror.url, 'myorg/x', '', alice, up.img);
  });

  it('does not hold a push to an unproxied name, nor pulls of what it created, to the root project', async () => {
    const mine = image();
    assert.equal(await pushWith(mirror.url, 'myorg/own', 'v1', mine, DEV), 201);
    up.counter.reset();
    await pullAs(mirror.url, 'myorg/own', '', DEV, mine);
    assert.deepEqual(up.counter.seen, []);
  });

  it('turns a mount from a proxied name into a plain upload unless the caller may pull the stored repository', async () => {
    const mount = (authorization: string) => fetch(`${mirror.url}/v2/myorg/mounted/blobs/uploads/?mount=${up.img.layer.digest}&from=myorg/x`, { method: 'POST', headers: { authorization } })
      .then(async (res) => { await res.arrayBuffer(); return res.status; });
    // The layer is cached under hub/myorg/x by the pulls above; dev may push to myorg, not pull from hub.
    assert.equal(await mount(DEV), 202);
    await mirror.store.setMember('hub', 'dev', 'guest');
    assert.equal(await mount(DEV), 201);
  });
});

describe('proxied names with the built-in token server', () => {
  let up: Upstream;
  let mirror: AuthRegistry;

  before(async () => {
    up = await startUpstream();
    mirror = await startAuthMirror('token', up.counter);
    await seedProjects(mirror);
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
  });

  it('answers insufficient_scope naming the stored repository, and fetches nothing upstream', async () => {
    const t = bearer(await token(mirror, ['repository:myorg/x:pull'], BOB));
    up.counter.reset();
    for (const [path, stored] of [[NS, 'ghcr/myorg/x'], [ROOT, 'hub/myorg/x']] as const) {
      const res = await call(mirror.url, path, t);
      assert.equal(res.status, 401);
      assert.match(res.challenge ?? '', new RegExp(`scope="repository:myorg/x:pull repository:${stored}:pull",error="insufficient_scope"`));
      // Asking for both scopes does not help: the token server grants only what the roles allow.
      const both = bearer(await token(mirror, ['repository:myorg/x:pull', `repository:${stored}:pull`], BOB));
      assert.equal((await call(mirror.url, path, both)).status, 401);
    }
    assert.deepEqual(up.counter.seen, []);
  });

  it('serves with a token naming only the requested repository (as ctr asks) once the roles allow the stored one', async () => {
    const t = bearer(await token(mirror, ['repository:myorg/x:pull'], BOB));
    await mirror.store.setMember('ghcr', 'bob', 'guest');
    up.counter.reset();
    await pullAs(mirror.url, 'myorg/x', '?ns=ghcr.io', t, up.img);
    assert.equal((await call(mirror.url, ROOT, t)).status, 401);
    await mirror.store.setMember('hub', 'bob', 'guest');
    await pullAs(mirror.url, 'myorg/x', '', t, up.img);
    assert.equal(up.counter.count('GET', /\/v2\/myorg\/x\/manifests\/v1$/), 2);
  });

  it('judges the token\'s subject now: a revoked role refuses the same token again', async () => {
    const t = bearer(await token(mirror, ['repository:myorg/x:pull'], BOB));
    await mirror.store.setMember('ghcr', 'bob', null);
    assert.equal((await call(mirror.url, NS, t)).status, 401);
  });

  it('judges a robot\'s token by the robot\'s project permissions', async () => {
    const secret = 'robot-secret-proxy-1';
    await mirror.store.addRobot('narrow', secret, [{ project: 'myorg', actions: ['pull'] }], null);
    await mirror.store.addRobot('wide', secret, [{ project: 'myorg', actions: ['pull'] }, { project: 'ghcr', actions: ['pull'] }], null);
    const narrow = bearer(await token(mirror, ['repository:myorg/x:pull'], basic('robot$narrow', secret)));
    const wide = bearer(await token(mirror, ['repository:myorg/x:pull'], basic('robot$wide', secret)));
    assert.equal((await call(mirror.url, NS, narrow)).status, 401);
    await pullAs(mirror.url, 'myorg/x', '?ns=ghcr.io', wide, up.img);
  });
});

describe('proxied names with tokens from an external token server', () => {
  let up: Upstream;
  let mirror: AuthRegistry;
  let dir: string;
  const key = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const sign = (names: string[]) => new SignJWT({ access: names.map((name) => ({ type: 'repository', name, actions: ['pull'] })) })
    .setProtectedHeader({ alg: 'ES256', kid: 'ext-1' }).setIssuer('ext-issuer').setAudience('ext-service').setSubject('bob')
    .setIssuedAt().setExpirationTime('5m').sign(key.privateKey);

  before(async () => {
    up = await startUpstream();
    dir = await tempDir('proxy-auth-jwks');
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [{ ...(await exportJWK(key.publicKey)), kid: 'ext-1', alg: 'ES256', use: 'sig' }] }));
    mirror = await startAuthMirror('token', up.counter, {
      token: { realm: 'https://auth.example.test/token', service: 'ext-service', issuer: 'ext-issuer', jwks: join(dir, 'jwks.json'), builtin: false, autoredirect: false, expiration: '5m', refreshexpiration: '1h' },
    });
    // Even a local user of that name with every right does not stand behind an external token.
    await mirror.store.addUser('bob', PASSWORD, true);
  });
  after(async () => {
    await mirror?.close();
    await up?.close();
    await removeDir(dir);
  });

  it('refuses a token that grants only the requested name (its rights on the stored one are unknown)', async () => {
    const t = bearer(await sign(['myorg/x']));
    up.counter.reset();
    for (const [path, stored] of [[NS, 'ghcr/myorg/x'], [ROOT, 'hub/myorg/x']] as const) {
      const res = await call(mirror.url, path, t);
      assert.equal(res.status, 401);
      assert.match(res.challenge ?? '', new RegExp(`^Bearer realm="https://auth.example.test/token",service="ext-service",scope="repository:myorg/x:pull repository:${stored}:pull"`));
    }
    assert.deepEqual(up.counter.seen, []);
  });

  it('serves when the token also grants the stored name', async () => {
    await pullAs(mirror.url, 'myorg/x', '?ns=ghcr.io', bearer(await sign(['myorg/x', 'ghcr/myorg/x'])), up.img);
    await pullAs(mirror.url, 'myorg/x', '', bearer(await sign(['myorg/x', 'hub/myorg/x'])), up.img);
  });
});
