// Users, projects, members, robots, audit and the authorizer over the metadata database: one
// suite, run on embedded SQLite and on a real PostgreSQL.
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { AccessStore, AccessStoreError } from '../../src/auth/access-store.js';
import { Authorizer } from '../../src/auth/authorizer.js';
import { appendAudit, readAudit } from '../../src/auth/audit.js';
import { verifySecret } from '../../src/auth/passwords.js';
import { ANONYMOUS } from '../../src/auth/identity.js';

const PW = 'a-long-password';
const repo = (name: string, ...actions: string[]) => ({ type: 'repository', name, actions });

forEachMetaDatabase('access store', (backend) => {
  it('stores users with bcrypt hashes, never the password, and refuses duplicates and short passwords', async () => {
    const meta = await backend.open();
    try {
      const store = new AccessStore(meta.db);
      await store.addUser('bob', PW);
      const bob = await store.user('bob');
      assert.ok(bob && bob.passwordHash !== PW && (await verifySecret(PW, bob.passwordHash)));
      await assert.rejects(store.addUser('bob', PW), AccessStoreError);
      await assert.rejects(store.addUser('carl', 'short'), /at least 8/);
      await assert.rejects(store.addUser('robot$x', PW), /invalid user name/);
      await store.setPassword('bob', 'another-password');
      assert.ok(await verifySecret('another-password', (await store.user('bob'))!.passwordHash));
      assert.equal(await store.countUsers(), 1);
    } finally {
      await meta.close();
    }
  });

  it('grants by role, visibility and robot permission; removing a user removes its memberships', async () => {
    const meta = await backend.open();
    try {
      const store = new AccessStore(meta.db);
      const authz = new Authorizer(store);
      for (const u of ['gus', 'dev', 'mai', 'adm']) await store.addUser(u, PW);
      await store.setAdmin('adm', true);
      await store.addProject('team');
      await store.addProject('pub', { public: true });
      await store.setMember('team', 'gus', 'guest');
      await store.setMember('team', 'dev', 'developer');
      await store.setMember('team', 'mai', 'maintainer');
      const want = [repo('team/app', 'pull', 'push', 'delete')];
      const actions = async (identity: Parameters<Authorizer['grant']>[0], scopes = want) =>
        (await authz.grant(identity, scopes, '10.0.0.1')).flatMap((g) => g.actions);
      assert.deepEqual(await actions({ kind: 'user', name: 'gus', admin: false }), ['pull']);
      assert.deepEqual(await actions({ kind: 'user', name: 'dev', admin: false }), ['pull', 'push']);
      assert.deepEqual(await actions({ kind: 'user', name: 'mai', admin: false }), ['pull', 'push', 'delete']);
      assert.deepEqual(await actions({ kind: 'user', name: 'adm', admin: true }), ['pull', 'push', 'delete']);
      assert.deepEqual(await actions(ANONYMOUS), []);
      assert.deepEqual(await actions(ANONYMOUS, [repo('pub/x', 'pull', 'push')]), ['pull']);
      assert.deepEqual(await actions({ kind: 'user', name: 'dev', admin: false }, [repo('nowhere/x', 'pull')]), [], 'no project, no access');
      await store.addRobot('ci', 'robot-secret-1', [{ project: 'team', actions: ['pull', 'push'] }], null);
      const robot = (await store.robot('robot$ci'))!;
      assert.deepEqual(await actions({ kind: 'robot', name: robot.name, permissions: robot.permissions }), ['pull', 'push']);
      await assert.rejects(store.addRobot('bad', 's', [{ project: 'team', actions: ['fly'] }], null), /invalid robot actions/);
      await store.removeUser('dev');
      assert.deepEqual((await store.members('team')).map((m) => `${m.user}:${m.role}`), ['gus:guest', 'mai:maintainer']);
      assert.deepEqual(await authz.visible(ANONYMOUS, ['pub/a', 'team/b'], '10.0.0.1'), ['pub/a']);
    } finally {
      await meta.close();
    }
  });

  it('applies a project allow-list to every identity', async () => {
    const meta = await backend.open();
    try {
      const store = new AccessStore(meta.db);
      await store.addUser('adm', PW, true);
      await store.addProject('lan', { public: true, allowFrom: ['192.168.0.0/16'] });
      const authz = new Authorizer(store);
      const pull = [repo('lan/app', 'pull')];
      assert.equal((await authz.grant(ANONYMOUS, pull, '192.168.4.5')).length, 1);
      assert.equal((await authz.grant(ANONYMOUS, pull, '10.1.1.1')).length, 0);
      assert.equal((await authz.grant({ kind: 'user', name: 'adm', admin: true }, pull, '10.1.1.1')).length, 0);
      await store.setProject('lan', { allowFrom: [] });
      assert.equal((await authz.grant(ANONYMOUS, pull, '10.1.1.1')).length, 1);
    } finally {
      await meta.close();
    }
  });

  it('appends audit records and reads them newest first, filtered', async () => {
    const meta = await backend.open();
    try {
      await appendAudit(meta.db, { actor: 'bob', address: '127.0.0.1', action: 'push', target: 'team/app:v1' }, new Date('2026-01-01T00:00:00Z'));
      await appendAudit(meta.db, { actor: 'adm', address: '127.0.0.1', action: 'user.add', target: 'bob', detail: { admin: false } }, new Date('2026-01-02T00:00:00Z'));
      await appendAudit(meta.db, { actor: 'bob', address: '127.0.0.1', action: 'delete', target: 'team/app@sha256:00' }, new Date('2026-01-03T00:00:00Z'));
      assert.deepEqual((await readAudit(meta.db)).map((e) => e.action), ['delete', 'user.add', 'push']);
      assert.deepEqual((await readAudit(meta.db, { actor: 'bob', limit: 1 })).map((e) => e.target), ['team/app@sha256:00']);
      assert.deepEqual((await readAudit(meta.db, { action: 'user.add' }))[0]!.detail, { admin: false });
      assert.equal((await readAudit(meta.db, { since: '2026-01-02T00:00:00.000Z' })).length, 2);
    } finally {
      await meta.close();
    }
  });
});
