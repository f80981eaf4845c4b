// LDAP sign-in against a real OpenLDAP (Debian's slapd, started here on 127.0.0.1 with a
// throwaway slapd.conf): the authenticator contract; plain, StartTLS and ldaps with the test CA;
// groups (group search, nested, memberOf) mapped to project roles and to administrator; a wrong
// password, an unknown user and an empty password refused alike; a user removed from a group
// losing access after the cache time; a broken service account named by /readyz; and the real
// clients (skopeo, docker, podman) signing in with an LDAP password and with a personal access
// token of the LDAP user. One slapd for the file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { authenticatorSuite } from '../suites/auth.suite.js';
import { LdapDirectory } from '../../src/auth/directories/ldap.js';
import { LdapAuthenticator } from '../../src/auth/authenticators/ldap.js';
import { SecretMatcher } from '../../src/auth/secrets.js';
import { readAudit } from '../../src/auth/audit.js';
import { LdapAuth, type LdapConfig } from '../../src/config/sections/directories.js';
import { Value } from '@sinclair/typebox/value';
import { addTree, groupDn, personDn, startSlapd, SUFFIX, type Slapd } from '../support/slapd.js';
import { makePki, type TestPki } from '../auth/tls-support.js';
import { basic, request, startAuthRegistry, token, type AuthRegistry } from '../auth/support.js';
import { removeDir, requireClients, tempDir } from '../e2e/support/env.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { startDockerd, type DockerdProcess } from '../e2e/support/dockerd-process.js';
import { podmanIn } from '../deploy/support/podman.js';

const SERVICE = { uid: 'berth', password: 'service-secret' };
const PW = 'ldap-pass-1';
// ann: dev; dave: admins; nora: ops, a group inside dev; carol: no group; lena: dev (removed from
// it by a test); vic: no group (removed from the directory by the contract suite).
const PEOPLE = ['ann', 'dave', 'nora', 'carol', 'lena', 'vic'].map((uid) => ({ uid, password: `${PW}-${uid}` }));
const pw = (uid: string) => `${PW}-${uid}`;

let work: string;
let pki: TestPki;
let slapd: Slapd;

before(async () => {
  work = await tempDir('ldap');
  pki = makePki(work);
  slapd = await startSlapd(join(work, 'slapd'), { caCert: pki.caCert, cert: pki.serverCert, key: pki.serverKey });
  await addTree(slapd, PEOPLE, {
    ops: [personDn('nora')],
    dev: [personDn('ann'), personDn('lena'), groupDn('ops')],
    admins: [personDn('dave')],
  }, SERVICE);
});
after(async () => {
  await slapd?.stop();
  await removeDir(work);
});

/** An `auth.ldap` section as written in config.yml. */
function ldapSection(extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    url: slapd.url, binddn: `cn=${SERVICE.uid},ou=services,${SUFFIX}`, bindpassword: SERVICE.password,
    userbase: `ou=people,${SUFFIX}`, userfilter: '(&(objectClass=inetOrgPerson)(uid={username}))',
    groupbase: `ou=groups,${SUFFIX}`, groupfilter: '(member={dn})', nestedgroups: true,
    groups: { [groupDn('dev')]: [{ project: 'team', role: 'developer' }] },
    admins: groupDn('admins'), cache: '0',
    ...extra,
  };
}

function directory(extra: Record<string, unknown> = {}): LdapDirectory {
  return new LdapDirectory(Value.Decode(LdapAuth, Value.Default(LdapAuth, ldapSection(extra))) as LdapConfig);
}

authenticatorSuite('ldap', { secret: 'directory', expires: false }, async () => {
  const dir = directory();
  return {
    authenticator: new LdapAuthenticator(dir), secrets: new SecretMatcher(),
    valid: { kind: 'basic', user: 'vic', password: pw('vic') }, identity: { kind: 'user', name: 'vic' },
    wrong: { kind: 'basic', user: 'vic', password: 'not-his-password' },
    unknown: { kind: 'basic', user: 'nobody-here', password: 'not-his-password' },
    foreign: { kind: 'bearer', token: 'a.b.c' },
    revoke: () => slapd.asRoot(async (c) => { await c.del(personDn('vic')); }),
    close: () => dir.close(),
  };
});

describe('the LDAP directory', () => {
  it('maps groups (nested too) to project roles and the admins group to administrator', async () => {
    const dir = directory();
    try {
      const ann = await dir.signIn('ann', pw('ann'));
      assert.ok(ann.ok);
      assert.deepEqual({ admin: ann.identity.admin, roles: ann.identity.roles, source: ann.identity.source }, { admin: false, roles: [{ project: 'team', role: 'developer' }], source: 'ldap' });
      const nora = await dir.signIn('nora', pw('nora'));
      assert.ok(nora.ok);
      assert.deepEqual(nora.identity.roles, [{ project: 'team', role: 'developer' }], 'ops is inside dev');
      const dave = await dir.signIn('dave', pw('dave'));
      assert.ok(dave.ok && dave.identity.admin);
      assert.deepEqual(await dir.lookup('ann'), ann.identity);
      assert.equal(await dir.lookup('nobody-here'), undefined);
    } finally {
      await dir.close();
    }
    const flat = directory({ nestedgroups: false });
    try {
      const nora = await flat.signIn('nora', pw('nora'));
      assert.ok(nora.ok);
      assert.deepEqual(nora.identity.roles, [], 'without nestedgroups only direct groups count');
    } finally {
      await flat.close();
    }
  });

  it('reads memberOf instead of a group search, and escapes the name into the filter', async () => {
    const dir = directory({ groupbase: undefined, memberattribute: 'memberOf', nestedgroups: false });
    try {
      const ann = await dir.signIn('ann', pw('ann'));
      assert.ok(ann.ok);
      assert.deepEqual(ann.identity.roles, [{ project: 'team', role: 'developer' }]);
      // A filter injection would match every user (and then nobody, as two entries) or ann.
      assert.deepEqual(await dir.signIn('*', pw('ann')), { ok: false });
      assert.deepEqual(await dir.signIn('ann)(uid=*', pw('ann')), { ok: false });
    } finally {
      await dir.close();
    }
  });

  it('refuses an empty password before binding (an unauthenticated bind would succeed)', async () => {
    const dir = directory();
    try {
      assert.deepEqual(await dir.signIn('ann', ''), { ok: false });
    } finally {
      await dir.close();
    }
  });

  it('signs in over StartTLS and ldaps:// with the CA; an unknown CA is refused, naming the certificate', async () => {
    for (const extra of [{ starttls: true, ca: pki.caCert }, { url: slapd.ldapsUrl, ca: pki.caCert }]) {
      const dir = directory(extra);
      try {
        assert.ok((await dir.signIn('ann', pw('ann'))).ok, JSON.stringify(extra));
      } finally {
        await dir.close();
      }
    }
    const untrusted = directory({ url: slapd.ldapsUrl });
    try {
      await assert.rejects(untrusted.signIn('ann', pw('ann')), /certificate/i);
    } finally {
      await untrusted.close();
    }
  });

  it('names a wrong service password and an unreachable server', async () => {
    const wrong = directory({ bindpassword: 'wrong' });
    await assert.rejects(wrong.check(), /service account .* cannot bind/);
    await wrong.close();
    const down = directory({ url: 'ldap://127.0.0.1:1', timeout: '2s' });
    await assert.rejects(down.check(), /LDAP ldap:\/\/127\.0\.0\.1:1: .*ECONNREFUSED/);
    await down.close();
  });
});

const skopeo = (...args: string[]) => new Promise<{ code: number; out: string }>((resolve) => {
  execFile('skopeo', ['--insecure-policy', ...args], { timeout: 300_000 }, (err, stdout, stderr) => resolve({ code: err ? 1 : 0, out: `${stdout}\n${stderr}` }));
});

/** What the built-in token server grants `user` for `scope` (empty when nothing). */
async function granted(reg: AuthRegistry, user: string, password: string, scope: string): Promise<string[]> {
  const jwt = await token(reg, [scope], basic(user, password));
  const claims = JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { access: Array<{ actions: string[] }> };
  return claims.access[0]?.actions ?? [];
}

describe('a registry signing in LDAP users (built-in token server)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('token', { ldap: ldapSection({
      cache: '1m',
      groups: { [groupDn('dev')]: [{ project: 'team', role: 'developer' }], [groupDn('ops')]: [{ project: 'other', role: 'guest' }] },
    }) as never });
    for (const p of ['team', 'other']) await reg.store.addProject(p);
  });
  after(async () => reg?.close());

  it('gives ann push on team (her group) and nothing on other, nora push on team and pull on other; dave (admins) everything', async () => {
    assert.deepEqual((await granted(reg, 'ann', pw('ann'), 'repository:team/app:pull,push')).sort(), ['pull', 'push']);
    assert.deepEqual(await granted(reg, 'ann', pw('ann'), 'repository:other/app:pull,push'), []);
    assert.deepEqual(await granted(reg, 'carol', pw('carol'), 'repository:team/app:pull,push'), []);
    assert.deepEqual((await granted(reg, 'dave', pw('dave'), 'repository:other/app:pull,push')).sort(), ['pull', 'push']);
    // nora is in ops, which is inside dev: push on team through dev, pull only on other through ops.
    assert.deepEqual((await granted(reg, 'nora', pw('nora'), 'repository:team/app:pull,push')).sort(), ['pull', 'push']);
    assert.deepEqual(await granted(reg, 'nora', pw('nora'), 'repository:other/app:pull,push'), ['pull']);
    const admin = await request(`${reg.url}/api/v1/users`, { authorization: basic('dave', pw('dave')) });
    assert.equal(admin.status, 200, admin.body);
    assert.equal((await request(`${reg.url}/api/v1/users`, { authorization: basic('ann', pw('ann')) })).status, 403);
  });

  it('answers a wrong password, an unknown user and an empty password alike, and audits them', async () => {
    const q = `${reg.url}/auth/token?service=berth-test&scope=repository:team/app:pull`;
    const answers = await Promise.all([basic('ann', 'wrong'), basic('no-such-user', 'wrong'), basic('ann', '')].map(async (a) => {
      const res = await request(q, { authorization: a });
      return { status: res.status, body: res.body };
    }));
    assert.equal(answers[0]!.status, 401);
    assert.deepEqual(answers[1], answers[0]);
    assert.deepEqual(answers[2], answers[0]);
    const failed = await readAudit(reg.server.auth!.meta.db, { action: 'login.failed' });
    for (const user of ['ann', 'no-such-user']) assert.ok(failed.some((a) => a.actor === user && a.detail.reason === 'invalid'), JSON.stringify(failed));
    const logins = await readAudit(reg.server.auth!.meta.db, { action: 'login' });
    assert.ok(logins.some((a) => a.actor === 'ann' && a.detail.source === 'ldap'), 'a directory sign-in is audited');
  });
});

describe('a registry with a short LDAP cache (Basic)', () => {
  let reg: AuthRegistry;
  before(async () => {
    reg = await startAuthRegistry('basic', { ldap: ldapSection({ cache: '1s' }) as never });
    await reg.store.addProject('team');
  });
  after(async () => reg?.close());

  it('stops giving lena push on team once she left dev and the cache time passed', async () => {
    const tags = () => request(`${reg.url}/v2/team/app/tags/list`, { authorization: basic('lena', pw('lena')) });
    const upload = () => request(`${reg.url}/v2/team/app/blobs/uploads/`, { method: 'POST', authorization: basic('lena', pw('lena')) });
    assert.equal((await upload()).status, 202);
    await slapd.modify(groupDn('dev'), 'delete', 'member', [personDn('lena')]);
    // The cache (1 s) is all that still remembers her group; wait it out.
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal((await upload()).status, 403);
    assert.equal((await tags()).status, 403, 'not even pull: team is private');
  });
});

describe('a registry whose LDAP service account is wrong', () => {
  it('says so in /readyz (naming it), and refuses sign-ins without letting anyone in', async () => {
    const reg = await startAuthRegistry('basic', { ldap: ldapSection({ bindpassword: 'wrong' }) as never });
    try {
      const ready = await request(`${reg.url}/readyz`);
      assert.equal(ready.status, 503);
      assert.match(ready.body, /ldap/);
      assert.match(ready.body, /service account .* cannot bind/);
      assert.equal((await request(`${reg.url}/v2/`, { authorization: basic('ann', pw('ann')) })).status, 401);
      const failed = await readAudit(reg.server.auth!.meta.db, { action: 'login.failed' });
      assert.ok(failed.some((a) => a.actor === 'ann' && String(a.detail.reason).startsWith('directory unavailable')), JSON.stringify(failed));
    } finally {
      await reg.close();
    }
  });
});

describe('skopeo, docker and podman with an LDAP password and with a personal access token of an LDAP user', () => {
  const gate = requireClients('skopeo', 'dockerd', 'docker', 'podman');
  let reg: AuthRegistry;
  let images: LabImages;
  let dockerd: DockerdProcess | undefined;
  before(async () => {
    gate.assertPresent();
    if (gate.skip) return;
    images = await sharedLabImages();
    reg = await startAuthRegistry('token', { ldap: ldapSection({
      cache: '1m',
      groups: { [groupDn('dev')]: [{ project: 'team', role: 'developer' }], [groupDn('ops')]: [{ project: 'other', role: 'guest' }] },
    }) as never });
    await reg.store.addProject('team');
  });
  after(async () => {
    await dockerd?.stop();
    await reg?.close();
  });

  it('skopeo pushes with ann\'s LDAP password, inspects with her token, and is refused on a project she has no role in', { skip: gate.skip }, async () => {
    const ref = `docker://${reg.host}/team/tiny:v1`;
    const pushed = await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `ann:${pw('ann')}`, images.oci('tiny'), ref);
    assert.equal(pushed.code, 0, pushed.out);
    const created = await request(`${reg.url}/api/v1/user/tokens`, {
      method: 'POST', authorization: basic('ann', pw('ann')), headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'ci', scopes: ['team:pull,push'] }),
    });
    assert.equal(created.status, 201, created.body);
    const pat = (created.json() as { token: string }).token;
    const inspected = await skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', '--creds', `ann:${pat}`, ref);
    assert.equal(inspected.code, 0, inspected.out);
    assert.equal(inspected.out.trim().split('\n')[0], images.digest('tiny'));
    const refused = await skopeo('copy', '--dest-tls-verify=false', '--dest-creds', `ann:${pw('ann')}`, images.oci('tiny'), `docker://${reg.host}/other/tiny:v1`);
    assert.notEqual(refused.code, 0);
  });

  it('docker logs in with the LDAP password, pulls, pushes; then with the token', { skip: gate.skip, timeout: 600_000 }, async () => {
    dockerd = await startDockerd({ dir: join(work, 'docker'), insecureRegistries: [reg.host] });
    await dockerd.mustDocker(['login', '-u', 'ann', '-p', pw('ann'), reg.host]);
    await dockerd.mustDocker(['pull', `${reg.host}/team/tiny:v1`]);
    await dockerd.mustDocker(['tag', `${reg.host}/team/tiny:v1`, `${reg.host}/team/tiny:docker`]);
    await dockerd.mustDocker(['push', `${reg.host}/team/tiny:docker`]);
    const refused = await dockerd.docker(['login', '-u', 'ann', '-p', 'wrong', reg.host]);
    assert.notEqual(refused.code, 0);
    const created = await request(`${reg.url}/api/v1/user/tokens`, {
      method: 'POST', authorization: basic('ann', pw('ann')), headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'docker', scopes: ['team:pull'] }),
    });
    const pat = (created.json() as { token: string }).token;
    await dockerd.mustDocker(['login', '-u', 'ann', '-p', pat, reg.host]);
    await dockerd.mustDocker(['rmi', `${reg.host}/team/tiny:docker`, `${reg.host}/team/tiny:v1`]);
    await dockerd.mustDocker(['pull', `${reg.host}/team/tiny:docker`]);
    const pushWithPull = await dockerd.docker(['push', `${reg.host}/team/tiny:docker`]);
    assert.notEqual(pushWithPull.code, 0, 'a pull-only token cannot push');
  });

  it('podman logs in with the LDAP password, pulls and pushes', { skip: gate.skip, timeout: 600_000 }, async () => {
    const podman = await podmanIn(join(work, 'podman'));
    const authfile = join(work, 'podman-auth.json');
    await podman.must(['login', '--authfile', authfile, '--tls-verify=false', '-u', 'nora', '-p', pw('nora'), reg.host]);
    await podman.must(['pull', '--authfile', authfile, '--tls-verify=false', `${reg.host}/team/tiny:v1`]);
    await podman.must(['tag', `${reg.host}/team/tiny:v1`, `${reg.host}/team/tiny:podman`]);
    await podman.must(['push', '--authfile', authfile, '--tls-verify=false', `${reg.host}/team/tiny:podman`]);
    const digest = await skopeo('inspect', '--tls-verify=false', '--format', '{{.Digest}}', '--creds', `ann:${pw('ann')}`, `docker://${reg.host}/team/tiny:podman`);
    assert.equal(digest.code, 0, digest.out);
    const refused = await podman.run(['login', '--authfile', authfile, '--tls-verify=false', '-u', 'nobody-here', '-p', 'x', reg.host]);
    assert.notEqual(refused.code, 0);
  });
});
