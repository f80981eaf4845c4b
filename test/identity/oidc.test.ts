// OpenID Connect console sign-in against a real provider (oidc-provider, OpenID certified) in a
// child process on 127.0.0.1: the authorization code flow with PKCE driven like a browser
// (redirects followed, cookies kept, the provider's login and consent pages submitted); the
// console session it starts; a personal access token made with that session and used by skopeo;
// groups mapped to roles and changed at the next sign-in; allowed email domains; state checked.
// One provider and one registry for the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';

import { readAudit } from '../../src/auth/audit.js';
import { startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { freePort, removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { join } from 'node:path';
import { browserMissing, launch, openTab } from '../ui/support/browser.js';
import { CookieJar, signInFlow, startOidcProvider, type OidcAccount, type OidcProvider } from '../support/oidc-provider.js';

const ACCOUNTS: Record<string, OidcAccount> = {
  ann: { preferred_username: 'ann', email: 'ann@example.com', email_verified: true, groups: ['dev'] },
  eve: { preferred_username: 'eve', email: 'eve@elsewhere.test', email_verified: true, groups: ['dev'] },
  una: { preferred_username: 'una', email: 'una@example.com', email_verified: false, groups: ['dev'] },
};

let work: string;
let provider: OidcProvider;
let reg: AuthRegistry;

before(async () => {
  work = await tempDir('oidc');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  provider = await startOidcProvider(work, { id: 'berth', secret: 'berth-client-secret', redirect: `${base}/ui/auth/oidc/callback` }, ACCOUNTS);
  reg = await startAuthRegistry('basic', {
    oidc: {
      issuer: provider.issuer, clientid: 'berth', clientsecret: 'berth-client-secret', scopes: ['openid', 'profile', 'email', 'groups'],
      groups: { dev: [{ project: 'team', role: 'developer' }] }, admins: 'ops', alloweddomains: ['example.com'],
    } as never,
  }, { env: { REGISTRY_HTTP_ADDR: `127.0.0.1:${port}` } });
  await reg.store.addProject('team');
});
after(async () => {
  await reg?.close();
  await provider?.stop();
  await removeDir(work);
});

interface View { identity: { name: string; kind: string; admin: boolean } | null; csrf?: string; oidcLogin?: string }

async function session(jar: CookieJar): Promise<View> {
  const res = await fetch(`${reg.url}/ui/auth/session`, { headers: { cookie: jar.header() } });
  return await res.json() as View;
}

async function makeToken(jar: CookieJar, csrf: string, scopes: string[]): Promise<{ status: number; token?: string; body: string }> {
  const res = await fetch(`${reg.url}/api/v1/user/tokens`, {
    method: 'POST', headers: { cookie: jar.header(), 'x-berth-csrf': csrf, 'content-type': 'application/json' },
    body: JSON.stringify({ name: `console-${Math.random()}`, scopes }),
  });
  const body = await res.text();
  return { status: res.status, body, ...(res.status === 201 ? { token: (JSON.parse(body) as { token: string }).token } : {}) };
}

const canPush = async (user: string, pat: string) => (await fetch(`${reg.url}/v2/team/app/blobs/uploads/`, {
  method: 'POST', headers: { authorization: `Basic ${Buffer.from(`${user}:${pat}`).toString('base64')}` },
})).status;

describe('console sign-in with OpenID Connect', () => {
  it('signs ann in through the provider (code + PKCE, state, nonce, ID token) and starts a console session', async () => {
    assert.equal((await session(new CookieJar())).oidcLogin, '/ui/auth/oidc/login', 'the page is told where to start');
    const end = await signInFlow(`${reg.url}/ui/auth/oidc/login`, 'ann');
    assert.equal(new URL(end.url).pathname, '/ui/', `ended at ${end.url}: ${end.status} ${end.body.slice(0, 300)}`);
    const s = await session(end.jar);
    assert.deepEqual(s.identity && { name: s.identity.name, kind: s.identity.kind, admin: s.identity.admin }, { name: 'ann', kind: 'user', admin: false });
    const logins = await readAudit(reg.server.auth!.meta.db, { action: 'login' });
    assert.ok(logins.some((a) => a.actor === 'ann' && a.detail.source === 'oidc'), JSON.stringify(logins));
  });

  it('refuses a user outside the allowed email domains, and one whose email is not verified, with no session', async () => {
    for (const user of ['eve', 'una']) {
      const end = await signInFlow(`${reg.url}/ui/auth/oidc/login`, user);
      assert.equal(end.status, 403, `${user}: ${end.body}`);
      assert.match(end.body, /may not sign in/);
      assert.equal((await session(end.jar)).identity, null);
    }
    const failed = await readAudit(reg.server.auth!.meta.db, { action: 'login.failed' });
    assert.ok(failed.some((a) => a.detail.source === 'oidc' && String(a.detail.reason).startsWith('eve: no verified email')), JSON.stringify(failed));
  });

  it('refuses a callback whose state is not the one it sent', async () => {
    const jar = new CookieJar();
    const login = await fetch(`${reg.url}/ui/auth/oidc/login`, { redirect: 'manual' });
    jar.take(login);
    assert.equal(login.status, 302);
    const sent = new URL(login.headers.get('location')!);
    assert.equal(sent.searchParams.get('code_challenge_method'), 'S256');
    assert.ok(sent.searchParams.get('nonce'));
    const forged = await fetch(`${reg.url}/ui/auth/oidc/callback?code=x&state=not-the-state`, { headers: { cookie: jar.header() }, redirect: 'manual' });
    assert.equal(forged.status, 401, await forged.text());
    const none = await fetch(`${reg.url}/ui/auth/oidc/callback?code=x&state=y`, { redirect: 'manual' });
    assert.equal(none.status, 400);
  });

  it('lets ann make a token in the console; its rights follow her groups as of her last sign-in', async () => {
    const first = await signInFlow(`${reg.url}/ui/auth/oidc/login`, 'ann');
    const s = await session(first.jar);
    assert.ok(s.csrf);
    const made = await makeToken(first.jar, s.csrf, ['team:pull,push']);
    assert.equal(made.status, 201, made.body);
    assert.equal(await canPush('ann', made.token!), 202);
    provider.setAccounts({ ...ACCOUNTS, ann: { ...ACCOUNTS.ann!, groups: [] } });
    assert.equal(await canPush('ann', made.token!), 202, 'the provider is not asked between sign-ins');
    await signInFlow(`${reg.url}/ui/auth/oidc/login`, 'ann');
    assert.equal(await canPush('ann', made.token!), 403, 'the next sign-in took her out of dev');
    provider.setAccounts({ ...ACCOUNTS, ann: { ...ACCOUNTS.ann!, groups: ['dev', 'ops'] } });
    const admin = await signInFlow(`${reg.url}/ui/auth/oidc/login`, 'ann');
    assert.equal((await session(admin.jar)).identity?.admin, true, 'ops is the admins group');
    provider.setAccounts(ACCOUNTS);
  });

  it('reports the provider in /readyz', async () => {
    const res = await fetch(`${reg.url}/readyz`);
    const body = await res.text();
    assert.equal(res.status, 200, body);
    assert.match(body, /oidc/);
  });
});

describe('skopeo and docker with a token an OpenID Connect user made in the console', () => {
  const gate = requireClients('skopeo', 'dockerd', 'docker');
  let dockerd: DockerdProcess | undefined;
  after(async () => dockerd?.stop());
  it('pushes and inspects with it, docker logs in and pulls with it; a revoked token is refused', { skip: gate.skip, timeout: 600_000 }, async () => {
    gate.assertPresent();
    const images = await sharedLabImages();
    const end = await signInFlow(`${reg.url}/ui/auth/oidc/login`, 'ann');
    const s = await session(end.jar);
    const made = await makeToken(end.jar, s.csrf!, ['team:pull,push']);
    assert.equal(made.status, 201, made.body);
    const skopeo = (...args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
      execFile('skopeo', ['--insecure-policy', ...args], { timeout: 300_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}\n${stderr}` }));
    });
    const ref = `docker://${reg.host}/team/tiny:oidc`;
    const pushed = await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `ann:${made.token!}`, images.oci('tiny'), ref);
    assert.equal(pushed.code, 0, pushed.out);
    const inspected = await skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', '--creds', `ann:${made.token!}`, ref);
    assert.equal(inspected.out.trim().split('\n')[0], images.digest('tiny'));
    dockerd = await startDockerd({ dir: join(work, 'docker'), insecureRegistries: [reg.host] });
    await dockerd.mustDocker(['login', '-u', 'ann', '-p', made.token!, reg.host]);
    await dockerd.mustDocker(['pull', `${reg.host}/team/tiny:oidc`]);
    const id = made.token!.split('_')[2]!;
    const revoked = await fetch(`${reg.url}/api/v1/user/tokens/${id}`, { method: 'DELETE', headers: { cookie: end.jar.header(), 'x-berth-csrf': s.csrf! } });
    assert.equal(revoked.status, 204, await revoked.text());
    const refused = await skopeo('inspect', '--tls-verify=false', '--raw', '--creds', `ann:${made.token!}`, ref);
    assert.notEqual(refused.code, 0);
    const dockerRefused = await dockerd.docker(['login', '-u', 'ann', '-p', made.token!, reg.host]);
    assert.notEqual(dockerRefused.code, 0, 'docker login with the revoked token fails');
  });
});



describe('the console\'s OpenID Connect button in Chromium', { skip: browserMissing() }, () => {
  it('goes to the provider, signs in there and comes back signed in', async () => {
    const browser = await launch();
    try {
      const tab = await openTab(browser);
      const { page } = tab;
      await page.goto(`${reg.url}/ui/`);
      await page.getByRole('link', { name: 'Sign in with OpenID Connect' }).click();
      // The provider's development pages: a login form, then consent.
      await page.locator('input[name="login"]').fill('ann');
      await page.locator('input[name="password"]').fill('any');
      await page.locator('button[type="submit"]').click();
      await page.locator('button[type="submit"]').click();
      await page.getByRole('heading', { name: 'Welcome, ann' }).waitFor();
      const cookies = await tab.context.cookies();
      assert.equal(cookies.find((c) => c.name === 'berth_session')?.httpOnly, true);
      assert.equal(cookies.some((c) => c.name === 'berth_oidc' && c.value !== ''), false, 'the pending sign-in cookie is cleared');
      await tab.context.close();
    } finally {
      await browser.close();
    }
  });
});

// Last in the file: it fills the callback's failed-sign-in counter for this address.
describe('OpenID Connect callbacks and providers that fail', () => {
  it('counts failed callbacks in the failed-login limiter: a stream of forged ones gets 429', async () => {
    const jar = new CookieJar();
    const statuses: number[] = [];
    for (let i = 0; i < 8 && !statuses.includes(429); i++) {
      const login = await fetch(`${reg.url}/ui/auth/oidc/login`, { redirect: 'manual' });
      jar.take(login);
      const forged = await fetch(`${reg.url}/ui/auth/oidc/callback?code=x&state=forged-${i}`, { headers: { cookie: jar.header() }, redirect: 'manual' });
      statuses.push(forged.status);
      if (forged.status === 429) assert.ok(Number(forged.headers.get('retry-after')) > 0, 'Retry-After is given');
      await forged.text();
    }
    assert.equal(statuses[0], 401, statuses.join(','));
    assert.equal(statuses.at(-1), 429, `refused once the limit (5) was reached: ${statuses.join(',')}`);
    const failed = await readAudit(reg.server.auth!.meta.db, { action: 'login.failed' });
    assert.ok(failed.some((a) => a.detail.reason === 'rate-limited' && a.actor === 'oidc:callback'), JSON.stringify(failed.slice(-3)));
  });

  it('an issuer without discovery: the registry starts, /readyz names it, sign-in answers 503', async () => {
    const closed = await freePort();
    const broken = await startAuthRegistry('basic', {
      oidc: { issuer: `http://127.0.0.1:${closed}`, clientid: 'berth', clientsecret: 'x', scopes: ['openid'] } as never,
    });
    try {
      const ready = await fetch(`${broken.url}/readyz`);
      const body = await ready.text();
      assert.equal(ready.status, 503, body);
      assert.match(body, /oidc/);
      const login = await fetch(`${broken.url}/ui/auth/oidc/login`, { redirect: 'manual' });
      assert.equal(login.status, 503, await login.text());
    } finally {
      await broken.close();
    }
  });
});
