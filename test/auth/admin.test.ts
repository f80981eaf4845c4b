// The admin API (/api/v1), the CLI commands, and the first-start administrator password.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PASSWORD, basic, image, pushWith, request, startAuthRegistry, type AuthRegistry } from './support.js';
import { BERTH_BIN, cleanEnv, tempDir, removeDir } from '../e2e/support/env.js';
import { loadConfig } from '../../src/config/load.js';
import { startAuth, BOOTSTRAP_ADMIN } from '../../src/auth/service.js';
import { openMetaDatabase } from '../../src/meta/database.js';
import { blob } from '../support/oci-fixtures.js';

describe('admin API', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  before(async () => {
    reg = await startAuthRegistry('basic');
    await reg.store.addUser('root', PASSWORD, true);
    await reg.store.addUser('plain', PASSWORD);
  });
  after(async () => reg.close());

  const api = (path: string, init: RequestInit & { authorization?: string } = {}) =>
    request(`${reg.url}/api/v1${path}`, { authorization: root, ...init, headers: { 'Content-Type': 'application/json', ...(init.headers as Record<string, string> | undefined) } });

  it('refuses anonymous callers (401 with a Basic challenge), wrong passwords (401) and non-administrators (403)', async () => {
    const anonymous = await request(`${reg.url}/api/v1/users`);
    assert.equal(anonymous.status, 401);
    assert.match(anonymous.headers.get('www-authenticate') ?? '', /^Basic realm=/);
    assert.equal((await api('/users', { authorization: basic('root', 'wrong-password') })).status, 401);
    assert.equal((await api('/users', { authorization: basic('plain', PASSWORD) })).status, 403);
    assert.equal((await api('/users', { authorization: basic('alice', PASSWORD) })).status, 403, 'htpasswd users have registry access, not admin');
  });

  it('creates users, projects, members and robots that then work against the registry, and audits each change', async () => {
    assert.equal((await api('/users', { method: 'POST', body: JSON.stringify({ name: 'dana', password: PASSWORD }) })).status, 201);
    assert.equal((await api('/users', { method: 'POST', body: JSON.stringify({ name: 'dana', password: PASSWORD }) })).status, 409);
    assert.equal((await api('/projects', { method: 'POST', body: JSON.stringify({ name: 'apps' }) })).status, 201);
    assert.equal((await api('/projects/apps/members/dana', { method: 'PUT', body: JSON.stringify({ role: 'developer' }) })).status, 204);
    assert.equal((await api('/projects/apps/members/dana', { method: 'PUT', body: JSON.stringify({ role: 'emperor' }) })).status, 400);
    assert.equal(await pushWith(reg.url, 'apps/web', 'v1', image(), basic('dana', PASSWORD)), 201);
    const robot = await api('/robots', { method: 'POST', body: JSON.stringify({ name: 'reader', permissions: [{ project: 'apps', actions: ['pull'] }] }) });
    assert.equal(robot.status, 201, robot.body);
    const { name, secret } = robot.json() as { name: string; secret: string };
    assert.equal(name, 'robot$reader');
    assert.equal((await request(`${reg.url}/v2/apps/web/tags/list`, { authorization: basic(name, secret) })).status, 200);
    const listed = await api('/robots');
    assert.doesNotMatch(listed.body, new RegExp(secret), 'the secret is shown only once');
    assert.equal((await api('/robots/robot$reader', { method: 'DELETE' })).status, 204);
    assert.equal((await request(`${reg.url}/v2/apps/web/tags/list`, { authorization: basic(name, secret) })).status, 401);
    const patched = await api('/projects/apps', { method: 'PATCH', body: JSON.stringify({ public: true }) });
    assert.equal((patched.json() as { public: boolean }).public, true);
    assert.equal((await request(`${reg.url}/v2/apps/web/tags/list`)).status, 200, 'public now');
    const audit = (await api('/audit?actor=root')).json() as Array<{ action: string; target: string }>;
    // The refused sign-in of the test above as root is there too (login.failed): not a change.
    assert.deepEqual(audit.map((a) => a.action).filter((a) => a !== 'login.failed'), ['project.set', 'robot.rm', 'robot.add', 'project.member', 'project.add', 'user.add']);
    assert.doesNotMatch(JSON.stringify(audit), new RegExp(`${PASSWORD}|${secret}`));
  });

  it('runs a garbage collection on demand: an orphan blob goes, an image stays, and the run is audited', async () => {
    assert.equal((await api('/projects', { method: 'POST', body: JSON.stringify({ name: 'ops' }) })).status, 201);
    const kept = image();
    assert.equal(await pushWith(reg.url, 'ops/app', 'v1', kept, root), 201);
    const orphan = blob('nothing references this blob');
    const upload = await request(`${reg.url}/v2/ops/app/blobs/uploads/?digest=${orphan.digest}`, { method: 'POST', body: orphan.data, authorization: root });
    assert.equal(upload.status, 201);
    assert.equal((await api('/gc', { method: 'POST', body: JSON.stringify({ grace: 'soon' }) })).status, 400);
    assert.equal((await api('/gc', { method: 'POST', authorization: basic('plain', PASSWORD), body: '{}' })).status, 403);
    const dry = await api('/gc', { method: 'POST', body: JSON.stringify({ dryRun: true, grace: '0s' }) });
    assert.equal(dry.status, 200, dry.body);
    assert.deepEqual((dry.json() as { blobs: { digest: string }[] }).blobs.map((b) => b.digest), [orphan.digest]);
    assert.equal((await request(`${reg.url}/v2/ops/app/blobs/${orphan.digest}`, { method: 'HEAD', authorization: root })).status, 200, 'a dry run deletes nothing');
    const run = await api('/gc', { method: 'POST', body: JSON.stringify({ grace: '0s' }) });
    assert.equal(run.status, 200, run.body);
    assert.equal((await request(`${reg.url}/v2/ops/app/blobs/${orphan.digest}`, { method: 'HEAD', authorization: root })).status, 404);
    assert.equal((await request(`${reg.url}/v2/ops/app/manifests/v1`, { authorization: root })).status, 200);
    assert.equal((await request(`${reg.url}/v2/ops/app/blobs/${kept.layer.digest}`, { authorization: root })).status, 200);
    const audit = (await api('/audit?action=gc.run')).json() as { actor: string; detail: { dryRun: boolean; blobs: number } | string }[];
    const details = audit.map((a) => (typeof a.detail === 'string' ? JSON.parse(a.detail) : a.detail) as { dryRun: boolean; blobs: number });
    assert.deepEqual(details.map((d) => [d.dryRun, d.blobs]).sort(), [[false, 1], [true, 1]]);
    assert.ok(audit.every((a) => a.actor === 'root'));
  });

  it('lists and requeues notification dead letters (none on a registry without endpoints)', async () => {
    const letters = await api('/notifications/deadletters');
    assert.equal(letters.status, 200);
    assert.deepEqual(letters.json(), []);
    const requeued = await api('/notifications/deadletters/requeue', { method: 'POST', body: '{}' });
    assert.deepEqual(requeued.json(), { requeued: 0 });
    assert.equal((await api('/notifications/deadletters', { authorization: basic('plain', PASSWORD) })).status, 403);
  });

  it('answers bad bodies with 400 and unknown names with 404', async () => {
    assert.equal((await api('/users', { method: 'POST', body: 'not json' })).status, 400);
    assert.equal((await api('/users/nobody', { method: 'DELETE' })).status, 404);
    assert.equal((await api('/projects', { method: 'POST', body: JSON.stringify({ name: 'x', allowFrom: ['nope'] }) })).status, 400);
  });

  it('refuses to remove or demote the last system administrator (409, saying why); another one may go', async () => {
    assert.equal((await api(`/users/${BOOTSTRAP_ADMIN}`, { method: 'DELETE' })).status, 204, 'root remains');
    const last = await api('/users/root', { method: 'DELETE' });
    assert.equal(last.status, 409, last.body);
    const error = (last.json() as { errors: Array<{ code: string; message: string }> }).errors[0]!;
    assert.equal(error.code, 'CONFLICT');
    assert.match(error.message, /last system administrator/);
    await assert.rejects(reg.store.setAdmin('root', false), /last system administrator/);
    assert.equal((await api('/users')).status, 200, 'root is still there, still an administrator');
    assert.equal((await api('/users', { method: 'POST', body: JSON.stringify({ name: 'second', password: PASSWORD, admin: true }) })).status, 201);
    await reg.store.setAdmin('second', false);
    await assert.rejects(reg.store.setAdmin('root', false), /last system administrator/);
    await reg.store.setAdmin('second', true);
    assert.equal((await api('/users/root', { method: 'DELETE' })).status, 204, 'with another administrator left');
    assert.equal((await api('/users/second', { method: 'DELETE', authorization: basic('second', PASSWORD) })).status, 409, 'nor may the last one remove itself');
  });
});

describe('audit of scheduled garbage collection', () => {
  it('records each gc.interval run in the audit log, with its counts', async () => {
    const reg = await startAuthRegistry('basic', {}, { configure: (c) => { c.gc.interval = '200ms'; c.gc.grace = '0s'; } });
    try {
      await reg.store.addUser('root', PASSWORD, true);
      const root = basic('root', PASSWORD);
      const orphan = blob('orphan of a scheduled run');
      assert.equal((await request(`${reg.url}/v2/lib/x/blobs/uploads/?digest=${orphan.digest}`, { method: 'POST', body: orphan.data, authorization: root })).status, 201);
      let deleted: { actor: string; detail: unknown }[] = [];
      for (let i = 0; i < 100 && deleted.length === 0; i++) {
        await new Promise((r) => setTimeout(r, 100));
        const audit = (await request(`${reg.url}/api/v1/audit?action=gc.run`, { authorization: root })).json() as { actor: string; detail: unknown }[];
        deleted = audit.filter((a) => ((typeof a.detail === 'string' ? JSON.parse(a.detail) : a.detail) as { blobs: number }).blobs === 1);
      }
      assert.equal(deleted.length, 1, 'one scheduled run deleted the orphan, and it is audited');
      assert.equal(deleted[0]!.actor, 'gc-schedule');
      assert.equal((await request(`${reg.url}/v2/lib/x/blobs/${orphan.digest}`, { method: 'HEAD', authorization: root })).status, 404);
    } finally {
      await reg.close();
    }
  });
});

describe('first start and the CLI', () => {
  it('creates an administrator with a generated password on first start, announced once', async () => {
    const { config } = loadConfig({ env: { REGISTRY_STORAGE_INMEMORY: '{}' } });
    config.auth = { htpasswd: undefined, token: { realm: '', service: 's', issuer: 'i', autoredirect: false, expiration: 300_000, refreshexpiration: 3_600_000 }, allowfrom: [], ratelimit: { attempts: 5, window: 60_000 } };
    const meta = await openMetaDatabase({ sqlite: { path: ':memory:' } });
    try {
      const told: string[] = [];
      const first = await startAuth(config, { meta, announce: (t) => told.push(t) });
      assert.equal(told.length, 1);
      const password = /with password (\S+)/.exec(told[0]!)?.[1];
      assert.ok(password && password.length >= 20);
      const check = await first!.signIn.password(BOOTSTRAP_ADMIN, password, '127.0.0.1');
      assert.ok(check.ok && check.identity.kind === 'user' && check.identity.admin);
      await startAuth(config, { meta, announce: (t) => told.push(t) });
      assert.equal(told.length, 1, 'not announced again');
    } finally {
      await meta.close();
    }
  });

  it('on first start beside an htpasswd user admin, announces an administrator whose password works', async () => {
    const dir = await tempDir('htpasswd-admin');
    const meta = await openMetaDatabase({ sqlite: { path: ':memory:' } });
    try {
      const path = `${dir}/htpasswd`;
      execFileSync('htpasswd', ['-cbB', path, 'admin', PASSWORD], { stdio: 'ignore' });
      const { config } = loadConfig({ env: { REGISTRY_STORAGE_INMEMORY: '{}' } });
      config.auth = { htpasswd: { realm: 'r', path }, token: undefined, allowfrom: [], ratelimit: { attempts: 5, window: 60_000 } };
      const told: string[] = [];
      const auth = await startAuth(config, { meta, announce: (t) => told.push(t) });
      assert.equal(told.length, 1);
      const m = /created the system administrator "([^"]+)" with password (\S+)/.exec(told[0]!);
      assert.ok(m, told[0]);
      const check = await auth!.signIn.password(m[1]!, m[2]!, '127.0.0.1');
      assert.ok(check.ok && check.identity.kind === 'user' && check.identity.admin, `the announced account ${m[1]} signs in as a system administrator`);
      assert.match(told[0]!, /the htpasswd file has a user "admin"/);
      const htpasswdAdmin = await auth!.signIn.password('admin', PASSWORD, '127.0.0.1');
      assert.ok(htpasswdAdmin.ok && htpasswdAdmin.identity.kind === 'htpasswd', 'the htpasswd admin still signs in with its own password');
    } finally {
      await meta.close();
      await removeDir(dir);
    }
  });

  it('`berth user rm` refuses the last system administrator', async () => {
    const root = await tempDir('cli-admin');
    try {
      const env = cleanEnv({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
      const berth = (args: string[], input?: string) => execFileSync(process.execPath, [BERTH_BIN, ...args], { env, input: input ?? '', encoding: 'utf8', stdio: 'pipe' });
      berth(['user', 'add', 'boss', '--admin', '--password-stdin'], `${PASSWORD}\n`);
      assert.throws(() => berth(['user', 'rm', 'boss']), (err: { stderr: string; status: number }) => /last system administrator/.test(err.stderr) && err.status === 1);
      assert.match(berth(['user', 'ls']), /^boss \(admin\)$/m);
    } finally {
      await removeDir(root);
    }
  });

  it('`berth user add`, `project add`, `project member` and `audit` act on the registry\'s metadata database', async () => {
    const root = await tempDir('cli');
    try {
      const env = cleanEnv({ REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
      const berth = (args: string[], input?: string) => execFileSync(process.execPath, [BERTH_BIN, ...args], { env, input: input ?? '', encoding: 'utf8', stdio: 'pipe' });
      berth(['user', 'add', 'erin', '--password-stdin'], `${PASSWORD}\n`);
      const generated = berth(['user', 'add', 'frank']).trim();
      assert.ok(generated.length >= 20);
      berth(['project', 'add', 'ops']);
      berth(['project', 'member', 'ops', 'erin', 'developer']);
      assert.throws(() => berth(['project', 'member', 'ops', 'ghost', 'guest']), /no user ghost/);
      const withAuth = await startAuthRegistry('basic', {}, { root });
      try {
        assert.equal(await pushWith(withAuth.url, 'ops/tool', 'v1', image(), basic('erin', PASSWORD)), 201);
        assert.equal((await request(`${withAuth.url}/v2/`, { authorization: basic('frank', generated) })).status, 200);
      } finally {
        await withAuth.close();
      }
      const audit = berth(['audit', '--json']).trim().split('\n').map((l) => JSON.parse(l) as { action: string; actor: string });
      assert.deepEqual(audit.map((a) => a.action), ['push', 'project.member', 'project.add', 'user.add', 'user.add']);
    } finally {
      await removeDir(root);
    }
  });
});
