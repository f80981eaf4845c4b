// Console sessions over real HTTP: signing in sets an HttpOnly, SameSite=Strict cookie that then
// stands for the user on the registry API and the admin API, every change needs the session's
// anti-forgery token, failed sign-ins share the registry's limiter, and a session ends at
// sign-out, at its age limit and when the password changes.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parseSetCookie } from 'cookie';
import { PASSWORD, basic, image, pushWith, request, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';

interface Session { cookie: string; csrf: string; setCookie: string }

async function signIn(base: string, user: string, password = PASSWORD): Promise<Session> {
  const res = await fetch(`${base}/ui/auth/session`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user, password }) });
  const body = await res.json() as { csrf: string };
  assert.equal(res.status, 201, JSON.stringify(body));
  const setCookie = res.headers.get('set-cookie')!;
  const parsed = parseSetCookie(setCookie);
  return { cookie: `${parsed.name}=${parsed.value}`, csrf: body.csrf, setCookie };
}

function withSession(s: Session, csrf = true): Record<string, string> {
  return { Cookie: s.cookie, ...(csrf ? { 'X-Berth-CSRF': s.csrf } : {}) };
}

describe('console sessions (htpasswd and database users)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic', { ratelimit: { attempts: 3, window: '1m' } });
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    await reg.store.setMember('team', 'olga', 'maintainer');
    assert.equal(await pushWith(reg.url, 'team/app', 'v1', image(), basic('bob', PASSWORD)), 201);
    assert.equal(await pushWith(reg.url, 'team/app', 'v2', image(), basic('bob', PASSWORD)), 201);
  });
  after(async () => reg.close());

  it('signs in with a cookie that scripts cannot read and other sites do not send', async () => {
    const s = await signIn(reg.url, 'bob');
    const cookie = parseSetCookie(s.setCookie);
    assert.equal(cookie.name, 'berth_session');
    assert.equal(cookie.httpOnly, true);
    assert.equal(cookie.sameSite, 'strict');
    assert.equal(cookie.path, '/');
    assert.equal(cookie.secure, undefined, 'plain HTTP: not Secure (the TLS test checks __Host- and Secure)');
    const me = await request(`${reg.url}/ui/auth/session`, { headers: withSession(s, false) });
    const view = me.json() as { identity: { name: string; kind: string; admin: boolean }; csrf: string; mode: string };
    assert.deepEqual(view.identity, { kind: 'user', name: 'bob', admin: false });
    assert.equal(view.csrf, s.csrf);
    assert.equal(view.mode, 'basic');
    assert.equal(me.headers.get('cache-control'), 'no-store');
  });

  it('lets the session read the registry API as its user, and only what the user may', async () => {
    const s = await signIn(reg.url, 'gus');
    const tags = await request(`${reg.url}/v2/team/app/tags/list`, { headers: withSession(s, false) });
    assert.equal(tags.status, 200, tags.body);
    assert.deepEqual((tags.json() as { tags: string[] }).tags.sort(), ['v1', 'v2']);
    const other = await request(`${reg.url}/v2/other/thing/tags/list`, { headers: withSession(s, false) });
    assert.equal(other.status, 403);
    const anonymous = await request(`${reg.url}/v2/team/app/tags/list`);
    assert.equal(anonymous.status, 401);
  });

  it('refuses a change without the anti-forgery token, and a guest\'s delete even with it', async () => {
    const olga = await signIn(reg.url, 'olga');
    const gus = await signIn(reg.url, 'gus');
    const del = (s: Session, csrf: boolean, extra: Record<string, string> = {}) =>
      request(`${reg.url}/v2/team/app/manifests/v1`, { method: 'DELETE', headers: { ...withSession(s, csrf), ...extra } });
    assert.equal((await del(olga, false)).status, 403);
    assert.equal((await del(olga, true, { 'X-Berth-CSRF': 'x'.repeat(43) })).status, 403);
    assert.equal((await del(olga, true, { Origin: 'https://evil.example' })).status, 403);
    const guest = await del(gus, true);
    assert.equal(guest.status, 403);
    assert.equal((guest.json() as { errors: Array<{ code: string }> }).errors[0]!.code, 'DENIED');
    const still = await request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('bob', PASSWORD) });
    assert.deepEqual((still.json() as { tags: string[] }).tags.sort(), ['v1', 'v2']);
  });

  it('deletes with the token as a maintainer, and the audit log names the console user', async () => {
    const s = await signIn(reg.url, 'olga');
    const res = await request(`${reg.url}/v2/team/app/manifests/v2`, { method: 'DELETE', headers: withSession(s) });
    assert.equal(res.status, 202, res.body);
    const audit = await request(`${reg.url}/api/v1/audit?action=delete`, { authorization: basic('root', PASSWORD) });
    const entries = audit.json() as Array<{ actor: string; target: string }>;
    assert.ok(entries.some((e) => e.actor === 'olga' && e.target === 'team/app:v2'), audit.body);
    const logins = await request(`${reg.url}/api/v1/audit?action=console.login&actor=olga`, { authorization: basic('root', PASSWORD) });
    assert.ok((logins.json() as unknown[]).length >= 1);
  });

  it('opens the admin API to an administrator\'s session, with the token on changes, and audits them', async () => {
    const root = await signIn(reg.url, 'root');
    const users = await request(`${reg.url}/api/v1/users`, { headers: withSession(root, false) });
    assert.equal(users.status, 200);
    const add = (csrf: boolean) => request(`${reg.url}/api/v1/users`, {
      method: 'POST', headers: { ...withSession(root, csrf), 'Content-Type': 'application/json' }, body: JSON.stringify({ name: 'carol', password: PASSWORD }),
    });
    assert.equal((await add(false)).status, 403);
    assert.equal(await reg.store.user('carol'), undefined);
    assert.equal((await add(true)).status, 201);
    const audit = await request(`${reg.url}/api/v1/audit?action=user.add`, { headers: withSession(root, false) });
    assert.ok((audit.json() as Array<{ actor: string; target: string }>).some((e) => e.actor === 'root' && e.target === 'carol'));
    const bob = await signIn(reg.url, 'bob');
    assert.equal((await request(`${reg.url}/api/v1/users`, { headers: withSession(bob, false) })).status, 403);
  });

  it('answers a refused console call without a Basic challenge (no browser dialog)', async () => {
    const res = await request(`${reg.url}/v2/team/app/tags/list`, { headers: { 'X-Berth-Console': '1' } });
    assert.equal(res.status, 401);
    assert.equal(res.headers.get('www-authenticate'), null);
    assert.match(res.headers.get('x-berth-authenticate') ?? '', /^Basic /);
  });

  it('ends the session at sign-out, and when the password changes', async () => {
    const s = await signIn(reg.url, 'bob');
    const out = await request(`${reg.url}/ui/auth/session`, { method: 'DELETE', headers: withSession(s) });
    assert.equal(out.status, 204);
    assert.equal(parseSetCookie(out.headers.get('set-cookie')!).maxAge, 0);
    const after1 = await request(`${reg.url}/ui/auth/session`, { headers: withSession(s, false) });
    assert.equal((after1.json() as { identity: unknown }).identity, null);
    const again = await signIn(reg.url, 'bob');
    await reg.store.setPassword('bob', `${PASSWORD}-new`);
    const tags = await request(`${reg.url}/v2/team/app/tags/list`, { headers: withSession(again, false) });
    assert.equal(tags.status, 401, 'the old password\'s session is gone');
    await reg.store.setPassword('bob', PASSWORD);
  });

  it('counts failed sign-ins in the registry\'s limiter and audits them', async () => {
    const attempt = (password: string) => request(`${reg.url}/ui/auth/session`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify({ user: 'carol2', password }),
    });
    await reg.store.addUser('carol2', PASSWORD);
    for (let i = 0; i < 3; i++) assert.equal((await attempt('wrong')).status, 401);
    const limited = await attempt(PASSWORD);
    assert.equal(limited.status, 429);
    assert.ok(Number(limited.headers.get('retry-after')) > 0);
    // The same limiter: the registry API refuses the right password now too.
    assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('carol2', PASSWORD) })).status, 429);
    const failed = await request(`${reg.url}/api/v1/audit?action=login.failed&actor=carol2`, { authorization: basic('root', PASSWORD) });
    assert.ok((failed.json() as unknown[]).length >= 3);
  });

  it('refuses a sign-in posted as a form or from another site', async () => {
    const form = await request(`${reg.url}/ui/auth/session`, { method: 'POST', headers: { 'Content-Type': 'application/x-www-form-urlencoded' }, body: `user=bob&password=${PASSWORD}` });
    assert.equal(form.status, 415);
    const foreign = await request(`${reg.url}/ui/auth/session`, { method: 'POST', headers: { 'Content-Type': 'application/json', Origin: 'https://evil.example' }, body: JSON.stringify({ user: 'bob', password: PASSWORD }) });
    assert.equal(foreign.status, 403);
    assert.equal(foreign.headers.get('set-cookie'), null);
  });
});

describe('console sessions with token auth and a short age limit', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token', {}, { configure: (config) => { config.ui.session.maxage = '1s'; } });
    await seed(reg.store);
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', image(), `Bearer ${await tokenFor(reg)}`), 201);
  });
  after(async () => reg.close());

  it('reads the registry API with the session instead of a bearer token, until the session\'s age limit', async () => {
    const s = await signIn(reg.url, 'bob');
    const tags = await request(`${reg.url}/v2/pub/app/tags/list`, { headers: withSession(s, false) });
    assert.equal(tags.status, 200, tags.body);
    await new Promise((r) => setTimeout(r, 1100));
    const late = await request(`${reg.url}/ui/auth/session`, { headers: withSession(s, false) });
    assert.equal((late.json() as { identity: unknown }).identity, null);
  });
});

async function tokenFor(reg: AuthRegistry): Promise<string> {
  const q = new URLSearchParams({ service: 'berth-test', scope: 'repository:pub/app:pull,push' });
  const res = await request(`${reg.url}/auth/token?${q}`, { authorization: basic('bob', PASSWORD) });
  return (res.json() as { token: string }).token;
}
