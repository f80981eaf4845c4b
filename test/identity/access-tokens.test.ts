// Personal access tokens: the authenticator contract suite, then a running registry: created
// over /api/v1/user/tokens (and by `berth token`), shown once, stored hashed, scoped within the
// owner's rights, refused at once when revoked or expired, last use recorded, audited, counted
// by the failed-login limiter; used as the password by skopeo, and through the built-in token
// server (whose tokens die with the access token they were issued for).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFile } from 'node:child_process';
import { authenticatorSuite } from '../suites/auth.suite.js';
import { openMetaDatabase } from '../../src/meta/database.js';
import { AccessStore } from '../../src/auth/access-store.js';
import { AccessTokenStore } from '../../src/auth/access-tokens.js';
import { AccessTokenAuthenticator } from '../../src/auth/authenticators/access-tokens.js';
import { ExternalUserStore } from '../../src/auth/external-users.js';
import { UserDirectory } from '../../src/auth/user-directory.js';
import { SecretMatcher } from '../../src/auth/secrets.js';
import { readAudit } from '../../src/auth/audit.js';
import { PASSWORD, basic, image, pushWith, request, seed, startAuthRegistry, token, type AuthRegistry } from '../auth/support.js';
import { requireClients } from '../e2e/support/env.js';
import type { LabImages } from '../e2e/support/images.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { runBerth } from '../support/cli.js';

const basicCreds = (user: string, password: string) => ({ kind: 'basic' as const, user, password });

authenticatorSuite('personal access tokens', { secret: 'token', expires: true }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-pat-'));
  const meta = await openMetaDatabase({ sqlite: { path: join(dir, 'meta.sqlite') } });
  const store = new AccessStore(meta.db);
  await store.addUser('bob', PASSWORD);
  const tokens = new AccessTokenStore(meta.db);
  const scopes = [{ project: 'team', actions: ['pull'] }];
  const valid = await tokens.create('bob', 'ci', scopes, null);
  const old = await tokens.create('bob', 'old', scopes, new Date(Date.now() + 60_000));
  await meta.db.updateTable('auth_access_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', old.token.id).execute();
  const wrongSecret = `${valid.text.slice(0, -4)}${valid.text.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  return {
    authenticator: new AccessTokenAuthenticator(tokens, new UserDirectory(store, new ExternalUserStore(meta.db), [])), secrets: new SecretMatcher(),
    valid: basicCreds('bob', valid.text), identity: { kind: 'pat', name: 'bob' },
    wrong: basicCreds('bob', wrongSecret), unknown: basicCreds('bob', `berth_pat_0123456789abcdef_${'x'.repeat(43)}`),
    foreign: basicCreds('bob', PASSWORD),
    expired: { right: basicCreds('bob', old.text) },
    revoke: async () => { await tokens.revoke(valid.token.id, 'bob'); },
    close: async () => { await meta.close(); rmSync(dir, { recursive: true, force: true }); },
  };
});

async function createToken(reg: AuthRegistry, user: string, body: Record<string, unknown>, password = PASSWORD): Promise<{ status: number; json: Record<string, unknown> }> {
  const res = await request(`${reg.url}/api/v1/user/tokens`, {
    method: 'POST', authorization: basic(user, password), headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  return { status: res.status, json: res.body ? res.json() as Record<string, unknown> : {} };
}

describe('personal access tokens on a registry (Basic auth)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
  });
  after(async () => reg?.close());

  it('is shown once, stored hashed, listed with its scopes and last use, never with its secret', async () => {
    const created = await createToken(reg, 'bob', { name: 'laptop', scopes: ['team:pull'] });
    assert.equal(created.status, 201, JSON.stringify(created.json));
    const text = created.json.token as string;
    assert.match(text, /^berth_pat_/);
    const rows = await reg.store.db.selectFrom('auth_access_tokens').selectAll().where('id', '=', created.json.id as string).execute();
    assert.equal(rows.length, 1);
    assert.ok(!JSON.stringify(rows).includes(text.slice(-20)), 'the secret is not stored');
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', text) })).status === 401, false);
    const list = await request(`${reg.url}/api/v1/user/tokens`, { authorization: basic('bob', PASSWORD) });
    assert.equal(list.status, 200);
    assert.ok(!list.body.includes(text.slice(-20)), 'the list holds no secret');
    const mine = (list.json() as Array<Record<string, unknown>>).find((t) => t.id === created.json.id)!;
    assert.deepEqual(mine.scopes, [{ project: 'team', actions: ['pull'] }]);
    assert.ok(typeof mine.lastUsedAt === 'string', 'the use was recorded');
    // gus sees only his own.
    const other = await request(`${reg.url}/api/v1/user/tokens`, { authorization: basic('gus', PASSWORD) });
    assert.deepEqual(other.json(), []);
  });

  it('grants its scopes within the owner\'s rights: pull-only cannot push, and no scope reaches past the owner\'s roles', async () => {
    const pullOnly = (await createToken(reg, 'bob', { name: 'pull', scopes: ['team:pull'] })).json.token as string;
    const pushing = (await createToken(reg, 'bob', { name: 'push', scopes: ['*:pull,push'] })).json.token as string;
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', image(), basic('bob', pushing)), 201);
    assert.equal(await pushWith(reg.url, 'team/app', 'v2', image(), basic('bob', pullOnly)), 403);
    assert.equal((await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: basic('bob', pullOnly) })).status, 200);
    // bob has no role in "other": a token for every project still cannot reach it.
    assert.equal((await request(`${reg.url}/v2/other/app/tags/list`, { authorization: basic('bob', pushing) })).status, 403);
    // The owner's name is part of the credential.
    assert.equal((await request(`${reg.url}/v2/team/app/manifests/v1`, { authorization: basic('gus', pullOnly) })).status, 401);
  });

  it('is refused at once when revoked or expired; revocation and creation are audited', async () => {
    const created = await createToken(reg, 'bob', { name: 'short', scopes: ['team:pull'], expiresIn: '1h' });
    const text = created.json.token as string;
    const id = created.json.id as string;
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', text) })).status, 200);
    await reg.store.db.updateTable('auth_access_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', id).execute();
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', text) })).status, 401);
    const second = await createToken(reg, 'bob', { name: 'revoked', scopes: ['team:pull'] });
    const secondText = second.json.token as string;
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', secondText) })).status, 200);
    // Another user cannot revoke bob's token.
    assert.equal((await request(`${reg.url}/api/v1/user/tokens/${second.json.id as string}`, { method: 'DELETE', authorization: basic('gus', PASSWORD) })).status, 404);
    assert.equal((await request(`${reg.url}/api/v1/user/tokens/${second.json.id as string}`, { method: 'DELETE', authorization: basic('bob', PASSWORD) })).status, 204);
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', secondText) })).status, 401);
    const audit = await readAudit(reg.store.db, { actor: 'bob' });
    assert.ok(audit.some((e) => e.action === 'token.create' && e.target === 'bob/revoked'));
    assert.ok(audit.some((e) => e.action === 'token.revoke' && e.target === 'bob/revoked' && e.detail.id === second.json.id));
    assert.ok(!JSON.stringify(audit).includes(secondText.slice(-20)), 'no secret in the audit log');
  });

  it('cannot mint tokens nor use the admin API; bad input is a clear 400', async () => {
    await reg.store.addUser('ada', PASSWORD, true);
    const text = (await createToken(reg, 'ada', { name: 'admin-token', scopes: ['*:pull'] })).json.token as string;
    const minted = await createToken(reg, 'ada', { name: 'again', scopes: ['*:pull'] }, text);
    assert.equal(minted.status, 403);
    assert.equal((await request(`${reg.url}/api/v1/users`, { authorization: basic('ada', text) })).status, 403);
    assert.equal((await request(`${reg.url}/api/v1/users`, { authorization: basic('ada', PASSWORD) })).status, 200);
    const bad = await createToken(reg, 'bob', { name: 'x', scopes: ['team:fly'] });
    assert.equal(bad.status, 400);
    assert.match(JSON.stringify(bad.json), /invalid token scope team:fly/);
    assert.equal((await createToken(reg, 'bob', { name: 'x', scopes: [] })).status, 400);
    assert.equal((await createToken(reg, 'bob', { name: 'x', scopes: ['team:pull'], expiresIn: 'soon' })).status, 400);
    // An administrator revokes anyone's token.
    const bobs = (await createToken(reg, 'bob', { name: 'for-admin', scopes: ['team:pull'] })).json;
    assert.equal((await request(`${reg.url}/api/v1/tokens/${bobs.id as string}`, { method: 'DELETE', authorization: basic('ada', PASSWORD) })).status, 204);
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', bobs.token as string) })).status, 401);
  });

  it('counts wrong tokens in the failed-login limiter', async () => {
    const text = (await createToken(reg, 'olga', { name: 'x', scopes: ['other:pull'] })).json.token as string;
    const wrong = `${text.slice(0, -3)}zzz`;
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++) statuses.push((await request(`${reg.url}/v2/other/app/tags/list`, { authorization: basic('olga', wrong) })).status);
    assert.deepEqual(statuses, [401, 401, 401, 401, 401, 429]);
    const audit = await readAudit(reg.store.db, { actor: 'olga', action: 'login.failed' });
    assert.ok(audit.length >= 5);
  });

  it('`berth token create|ls|revoke` manage a user\'s tokens through the registry', async () => {
    const created = await runBerth(['token', 'create', 'cli', '--registry', reg.url, '--scope', 'team:pull', '--expires', '720h', '-u', 'bob', '--password-stdin'], {}, 60_000, { input: `${PASSWORD}\n` });
    assert.equal(created.code, 0, created.stderr);
    const text = created.stdout.trim();
    assert.match(text, /^berth_pat_/);
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', text) })).status, 200);
    const ls = await runBerth(['token', 'ls', '--registry', reg.url, '-u', 'bob', '--password-stdin'], {}, 60_000, { input: PASSWORD });
    assert.equal(ls.code, 0, ls.stderr);
    const line = ls.stdout.split('\n').find((l) => l.includes('\tcli\t'))!;
    assert.ok(line, ls.stdout);
    assert.ok(!ls.stdout.includes(text.slice(-20)));
    const id = line.split('\t')[0]!;
    const revoked = await runBerth(['token', 'revoke', id, '--registry', reg.url, '-u', 'bob', '--password-stdin'], {}, 60_000, { input: PASSWORD });
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', text) })).status, 401);
    const refused = await runBerth(['token', 'ls', '--registry', reg.url, '-u', 'bob', '--password-stdin'], {}, 60_000, { input: 'wrong-password' });
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /401/);
  });
});

describe('personal access tokens with the built-in token server', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token');
    await seed(reg.store);
  });
  after(async () => reg?.close());

  it('signs in at /auth/token with a token as the password; its JWTs die with it', async () => {
    const text = (await createToken(reg, 'bob', { name: 'docker', scopes: ['team:pull'] })).json.token as string;
    const jwt = await token(reg, ['repository:team/app:pull,push'], basic('bob', text));
    const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { access: Array<{ actions: string[] }> };
    assert.deepEqual(claims.access[0]?.actions, ['pull'], 'the grant is narrowed to the token\'s scope');
    assert.equal((await request(`${reg.url}/v2/team/app/tags/list`, { authorization: `Bearer ${jwt}` })).status, 404);
    const id = (await reg.store.db.selectFrom('auth_access_tokens').select('id').where('name', '=', 'docker').executeTakeFirstOrThrow()).id;
    await reg.server.auth!.tokens.revoke(id, 'bob');
    const after = await request(`${reg.url}/v2/team/app/tags/list`, { authorization: `Bearer ${jwt}` });
    assert.equal(after.status, 401);
    assert.match(after.headers.get('www-authenticate') ?? '', /invalid_token/);
  });
});

describe('skopeo with a personal access token as the password', () => {
  const gate = requireClients('skopeo');
  let reg: AuthRegistry;
  let images: LabImages;
  before(async () => {
    gate.assertPresent();
    images = await sharedLabImages();
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
  });
  after(async () => reg?.close());

  const skopeo = (...args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
    execFile('skopeo', ['--insecure-policy', ...args], { timeout: 300_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}\n${stderr}` }));
  });

  it('pushes and pulls with a push token; a pull token cannot push; a revoked one is refused', { skip: gate.skip }, async () => {
    const push = (await createToken(reg, 'bob', { name: 'skopeo-push', scopes: ['team:pull,push'] })).json;
    const pull = (await createToken(reg, 'bob', { name: 'skopeo-pull', scopes: ['team:pull'] })).json;
    const ref = `docker://${reg.host}/team/tiny:v1`;
    const pushed = await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `bob:${push.token as string}`, images.oci('tiny'), ref);
    assert.equal(pushed.code, 0, pushed.out);
    const inspected = await skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', '--creds', `bob:${pull.token as string}`, ref);
    assert.equal(inspected.code, 0, inspected.out);
    assert.equal(inspected.out.trim().split('\n')[0], images.digest('tiny'));
    const refused = await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `bob:${pull.token as string}`, images.oci('tiny'), `docker://${reg.host}/team/tiny:v2`);
    assert.notEqual(refused.code, 0);
    assert.match(refused.out, /denied|unauthorized/i);
    await request(`${reg.url}/api/v1/user/tokens/${pull.id as string}`, { method: 'DELETE', authorization: basic('bob', PASSWORD) });
    const revoked = await skopeo('inspect', '--tls-verify=false', '--raw', '--creds', `bob:${pull.token as string}`, ref);
    assert.notEqual(revoked.code, 0);
    assert.match(revoked.out, /unauthorized|authentication required|invalid/i);
  });
});
