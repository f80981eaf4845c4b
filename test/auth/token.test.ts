// Token authentication: the built-in token server (GET and OAuth2 POST) and the registry's
// verification of built-in and external tokens (root certificate bundle with kid or x5c, JWKS).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createPrivateKey, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK } from 'jose';
import { PASSWORD, basic, image, pushWith, request, seed, startAuthRegistry, token, type AuthRegistry } from './support.js';
import { TokenIssuer } from '../../src/auth/token/issuer.js';
import { libtrustKeyId, loadOrCreateSigningKey } from '../../src/auth/token/keys.js';
import { requireClients, tempDir } from '../e2e/support/env.js';

const bearer = (t: string) => `Bearer ${t}`;

describe('built-in token server and bearer tokens', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token');
    await seed(reg.store);
  });
  after(async () => reg.close());

  const challengeOf = (h: Headers) => h.get('www-authenticate') ?? '';

  it('challenges without a token, naming the realm, service and scope', async () => {
    const base = await request(`${reg.url}/v2/`);
    assert.equal(base.status, 401);
    assert.equal(challengeOf(base.headers), `Bearer realm="${reg.url}/auth/token",service="berth-test"`);
    const res = await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: basic('bob', PASSWORD) });
    assert.equal(res.status, 401);
    assert.equal(challengeOf(res.headers), `Bearer realm="${reg.url}/auth/token",service="berth-test",scope="repository:team/app:pull"`);
  });

  it('issues a token with the granted part of the scope in its access claim, and pushes with it', async () => {
    const res = await request(`${reg.url}/auth/token?service=berth-test&scope=repository:team/app:pull,push,delete`, { authorization: basic('bob', PASSWORD) });
    assert.equal(res.status, 200);
    const body = res.json() as { token: string; access_token: string; expires_in: number; issued_at: string };
    assert.equal(body.token, body.access_token);
    assert.equal(body.expires_in, 300);
    const claims = JSON.parse(Buffer.from(body.token.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    assert.equal(claims.sub, 'bob');
    assert.equal(claims.aud, 'berth-test');
    assert.equal(claims.iss, 'berth-test-issuer');
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', image(), bearer(body.token)), 201);
  });

  it('refuses a wrong password at the token server with 401', async () => {
    const res = await request(`${reg.url}/auth/token?service=berth-test&scope=repository:team/app:pull`, { authorization: basic('bob', 'nope-nope') });
    assert.equal(res.status, 401);
    assert.match(challengeOf(res.headers), /^Basic realm=/);
  });

  it('answers insufficient_scope for a token of another repository or another action, and nothing changes', async () => {
    const pullOnly = await token(reg, ['repository:team/app:pull'], basic('bob', PASSWORD));
    const img = image();
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', img, bearer(pullOnly)), 401);
    const res = await request(`${reg.url}/v2/team/app/blobs/uploads/`, { method: 'POST', authorization: bearer(pullOnly) });
    assert.equal(res.status, 401);
    assert.equal(challengeOf(res.headers), `Bearer realm="${reg.url}/auth/token",service="berth-test",scope="repository:team/app:push",error="insufficient_scope"`);
    const otherRepo = await request(`${reg.url}/v2/team/other/tags/list`, { authorization: bearer(pullOnly) });
    assert.equal(otherRepo.status, 401);
    assert.match(challengeOf(otherRepo.headers), /error="insufficient_scope"/);
    const blob = await request(`${reg.url}/v2/team/app/blobs/${img.layer.digest}`, { authorization: bearer(pullOnly) });
    assert.equal(blob.status, 404, 'the refused push stored nothing');
  });

  it('gives a guest no push, an outsider nothing, and anonymous only public pulls', async () => {
    const guest = await token(reg, ['repository:team/app:pull,push'], basic('gus', PASSWORD));
    assert.equal(await pushWith(reg.url, 'team/app', 'v9', image(), bearer(guest)), 401);
    const outsider = await token(reg, ['repository:team/app:pull'], basic('olga', PASSWORD));
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(outsider) })).status, 401);
    const anonymousPrivate = await token(reg, ['repository:team/app:pull']);
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(anonymousPrivate) })).status, 401);
    const img = image();
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', img, bearer(await token(reg, ['repository:pub/app:push,pull'], basic('bob', PASSWORD)))), 201);
    const anonymousPublic = await token(reg, ['repository:pub/app:pull,push']);
    const claims = JSON.parse(Buffer.from(anonymousPublic.split('.')[1]!, 'base64url').toString()) as { access: unknown };
    assert.deepEqual(claims.access, [{ type: 'repository', name: 'pub/app', actions: ['pull'] }]);
    assert.equal((await request(`${reg.url}/v2/pub/app/manifests/v1`, { authorization: bearer(anonymousPublic), headers: { Accept: img.manifest.mediaType } })).status, 200);
  });

  it('refuses an expired token and a token signed by another key, as invalid_token', async () => {
    const own = reg.server.auth!.issuer!.options;
    const expired = await new TokenIssuer({ ...own, now: () => new Date(Date.now() - 3600_000) }).accessToken('bob', [{ type: 'repository', name: 'team/app', actions: ['pull'] }]);
    const res = await request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(expired.token) });
    assert.equal(res.status, 401);
    assert.match(challengeOf(res.headers), /error="invalid_token"/);
    const forgedKey = loadOrCreateSigningKey(undefined);
    const forged = await new TokenIssuer({ ...own, key: { ...forgedKey, kid: own.key.kid } }).accessToken('bob', [{ type: 'repository', name: 'team/app', actions: ['pull', 'push'] }]);
    const refused = await request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(forged.token) });
    assert.equal(refused.status, 401);
    assert.match(challengeOf(refused.headers), /error="invalid_token"/);
  });

  it('serves the OAuth2 POST form: password grant with a refresh token, then refresh_token grant', async () => {
    const form = new URLSearchParams({ grant_type: 'password', username: 'bob', password: PASSWORD, service: 'berth-test', scope: 'repository:team/app:pull', client_id: 'containerd', access_type: 'offline' });
    const res = await request(`${reg.url}/auth/token`, { method: 'POST', body: form, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(res.status, 200, res.body);
    const body = res.json() as { access_token: string; refresh_token: string; scope: string };
    assert.equal(body.scope, 'repository:team/app:pull');
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: bearer(body.access_token) })).status, 200);
    const refresh = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: body.refresh_token, service: 'berth-test', scope: 'repository:team/app:pull,push' });
    const again = await request(`${reg.url}/auth/token`, { method: 'POST', body: refresh, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } });
    assert.equal(again.status, 200, again.body);
    assert.equal((again.json() as { scope: string }).scope, 'repository:team/app:pull,push');
    const wrong = new URLSearchParams({ grant_type: 'password', username: 'bob', password: 'bad-password', service: 'berth-test' });
    assert.equal((await request(`${reg.url}/auth/token`, { method: 'POST', body: wrong })).status, 401);
    const bogus = new URLSearchParams({ grant_type: 'refresh_token', refresh_token: 'not.a.token', service: 'berth-test' });
    assert.equal((await request(`${reg.url}/auth/token`, { method: 'POST', body: bogus })).status, 401);
  });

  it('refuses a refresh token of a deleted robot', async () => {
    await reg.store.addRobot('deployer', 'robot-secret-xyz123', [{ project: 'team', actions: ['pull'] }], null);
    const form = new URLSearchParams({ grant_type: 'password', username: 'robot$deployer', password: 'robot-secret-xyz123', service: 'berth-test', access_type: 'offline' });
    const res = await request(`${reg.url}/auth/token`, { method: 'POST', body: form });
    assert.equal(res.status, 200);
    const { refresh_token } = res.json() as { refresh_token: string };
    await reg.store.removeRobot('deployer');
    const again = await request(`${reg.url}/auth/token`, { method: 'POST', body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token, service: 'berth-test' }) });
    assert.equal(again.status, 401);
  });

  it('lists in _catalog only what the token subject may pull', async () => {
    const t = await token(reg, ['registry:catalog:*'], basic('gus', PASSWORD));
    const res = await request(`${reg.url}/v2/_catalog`, { authorization: bearer(t) });
    assert.equal(res.status, 200, res.body);
    assert.deepEqual((res.json() as { repositories: string[] }).repositories, ['pub/app', 'team/app']);
  });
});

describe('tokens from an external token server', () => {
  const openssl = requireClients('openssl');
  let reg: AuthRegistry;
  let caKey: string;
  let caCert: string;
  let leafKey: string;
  let leafCert: string;
  let jwksKey: ReturnType<typeof generateKeyPairSync>;

  before(async () => {
    openssl.assertPresent();
    const dir = await tempDir('token-ca');
    caKey = join(dir, 'ca.key'); caCert = join(dir, 'ca.crt'); leafKey = join(dir, 'leaf.key'); leafCert = join(dir, 'leaf.crt');
    const run = (...args: string[]) => execFileSync('openssl', args, { stdio: 'pipe' });
    run('req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', caKey, '-out', caCert, '-days', '2', '-subj', '/CN=token-ca');
    run('req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes', '-keyout', leafKey, '-out', join(dir, 'leaf.csr'), '-subj', '/CN=token-signer');
    run('x509', '-req', '-in', join(dir, 'leaf.csr'), '-CA', caCert, '-CAkey', caKey, '-CAcreateserial', '-out', leafCert, '-days', '2');
    jwksKey = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const jwk = { ...(await exportJWK(jwksKey.publicKey)), kid: 'jwks-key-1', alg: 'ES256', use: 'sig' };
    writeFileSync(join(dir, 'jwks.json'), JSON.stringify({ keys: [jwk] }));
    reg = await startAuthRegistry('token', {
      token: { realm: 'https://auth.example.test/token', service: 'ext-service', issuer: 'ext-issuer', rootcertbundle: caCert, jwks: join(dir, 'jwks.json'), builtin: false, autoredirect: false, expiration: '5m', refreshexpiration: '1h' },
    });
  });
  after(async () => reg?.close());

  const sign = (key: Parameters<SignJWT['sign']>[0], header: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
    new SignJWT({ access: [{ type: 'repository', name: 'ext/app', actions: ['pull', 'push'] }] })
      .setProtectedHeader({ alg: 'ES256', ...header }).setIssuer((claims.iss as string | undefined) ?? 'ext-issuer')
      .setAudience((claims.aud as string | undefined) ?? 'ext-service').setSubject('someone')
      .setIssuedAt().setExpirationTime('5m').sign(key);

  it('challenges with the configured realm and serves no token endpoint of its own', async () => {
    const res = await request(`${reg.url}/v2/`);
    assert.equal(res.headers.get('www-authenticate'), 'Bearer realm="https://auth.example.test/token",service="ext-service"');
    assert.equal((await request(`${reg.url}/auth/token`)).status, 404);
  });

  it('accepts tokens signed by a bundle certificate (kid), through an x5c chain, or by a JWKS key', { skip: openssl.skip }, async () => {
    const ca = createPrivateKey(readFileSync(caKey));
    const byKid = await sign(ca, { kid: libtrustKeyId(createPrivateKey(readFileSync(caKey))) });
    const leafDer = (pem: string) => pem.replace(/-----[^-]+-----|\s/g, '');
    const byChain = await sign(createPrivateKey(readFileSync(leafKey)), { x5c: [leafDer(readFileSync(leafCert, 'utf8'))] });
    const byJwks = await sign(jwksKey.privateKey, { kid: 'jwks-key-1' });
    for (const t of [byKid, byChain, byJwks]) {
      assert.equal(await pushWith(reg.url, 'ext/app', 'v1', image(), bearer(t)), 201);
    }
  });

  it('refuses a self-signed x5c, a wrong audience and a wrong issuer', { skip: openssl.skip }, async () => {
    const rogue = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const wrongKid = await sign(rogue, { kid: 'jwks-key-1' });
    const wrongAud = await sign(jwksKey.privateKey, { kid: 'jwks-key-1' }, { aud: 'another-service' });
    const wrongIss = await sign(jwksKey.privateKey, { kid: 'jwks-key-1' }, { iss: 'someone-else' });
    for (const t of [wrongKid, wrongAud, wrongIss]) {
      const res = await request(`${reg.url}/v2/ext/app/tags/list`, { authorization: bearer(t) });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
    }
  });
});
