// Access control without HTTP: credentials, the route's declared action and the request's facts
// in, a grant or a refusal (code, detail, challenge) out, including the stored-name rule of the
// pull-through cache and the cross-repository mount rule.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { AccessStore } from '../../src/auth/access-store.js';
import { Authorizer } from '../../src/auth/authorizer.js';
import { AuthenticatorChain } from '../../src/auth/authenticator.js';
import { DatabaseUserAuthenticator } from '../../src/auth/authenticators/users.js';
import { SecretMatcher } from '../../src/auth/secrets.js';
import { SignIn } from '../../src/auth/sign-in.js';
import { LoginRateLimiter } from '../../src/auth/rate-limit.js';
import { Subjects } from '../../src/auth/subjects.js';
import { AccessControl, type AccessRequest, type Admission, type AccessControlDeps } from '../../src/auth/access-control.js';

const PASSWORD = 'correct-horse-9';
const bob = { kind: 'basic' as const, user: 'bob', password: PASSWORD };
const facts = (declared: AccessRequest['declared'], extra: Partial<AccessRequest> = {}): AccessRequest => ({
  declared, address: '127.0.0.1', ns: undefined, mountFrom: undefined, tokenServer: 'https://registry.test/auth/token', ...extra,
});
const refusal = (a: Admission) => {
  assert.equal(a.ok, false, 'refused');
  return (a as Extract<Admission, { ok: false }>).refusal;
};

describe('access control', () => {
  let dir: string;
  let meta: MetaDatabase;
  let deps: AccessControlDeps;
  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'berth-access-'));
    meta = await openMetaDatabase({ sqlite: { path: join(dir, 'meta.sqlite') } });
    const store = new AccessStore(meta.db);
    await store.addUser('bob', PASSWORD);
    await store.addProject('team');
    await store.addProject('other');
    await store.setMember('team', 'bob', 'developer');
    const secrets = new SecretMatcher();
    const signIn = new SignIn(new AuthenticatorChain([new DatabaseUserAuthenticator(store, secrets)], secrets), new LoginRateLimiter({ attempts: 50, windowMs: 60_000 }));
    deps = { mode: 'basic', realm: 'berth-test', service: '', signIn, authorizer: new Authorizer(store), subjects: new Subjects(store, undefined), issuer: undefined };
  });
  after(async () => {
    await meta.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('grants a member the action the route declares, and names who signed in', async () => {
    const a = await new AccessControl(deps).admit(bob, facts({ action: 'push', repository: 'team/app' }));
    assert.ok(a.ok);
    assert.deepEqual(a.identity, { kind: 'user', name: 'bob', admin: false });
  });

  it('challenges an anonymous client with Basic, and refuses wrong credentials the same way', async () => {
    const control = new AccessControl(deps);
    const anonymous = refusal(await control.admit(undefined, facts({ action: 'pull', repository: 'team/app' })));
    assert.equal(anonymous.code, 'UNAUTHORIZED');
    assert.equal(anonymous.headers['WWW-Authenticate'], 'Basic realm="berth-test"');
    const wrong = refusal(await control.admit({ ...bob, password: 'wrong-password' }, facts({ action: 'pull', repository: 'team/app' })));
    assert.deepEqual([wrong.code, wrong.detail, wrong.headers], ['UNAUTHORIZED', 'invalid credentials', anonymous.headers]);
    assert.equal(wrong.log?.reason, 'invalid');
  });

  it('denies a signed-in user what its role lacks, naming the access', async () => {
    const denied = refusal(await new AccessControl(deps).admit(bob, facts({ action: 'pull', repository: 'other/app' })));
    assert.equal(denied.code, 'DENIED');
    assert.deepEqual(denied.detail, [{ Type: 'repository', Name: 'other/app', Action: 'pull' }]);
  });

  it('a pull served from another stored repository needs pull there too', async () => {
    const control = new AccessControl(deps, async (name) => (name === 'team/mirror' ? ['other/cache'] : []));
    const denied = refusal(await control.admit(bob, facts({ action: 'pull', repository: 'team/mirror' })));
    assert.equal(denied.code, 'DENIED');
    assert.deepEqual(denied.detail, [{ Type: 'repository', Name: 'other/cache', Action: 'pull' }]);
    assert.ok((await control.admit(bob, facts({ action: 'pull', repository: 'team/app' }))).ok);
  });

  it('a cross-repository mount keeps its source only with pull on it; otherwise the upload goes on plainly', async () => {
    const control = new AccessControl(deps);
    const push = { action: 'push', repository: 'team/app' };
    const fromOwn = await control.admit(bob, facts(push, { mountFrom: 'team/base' }));
    const fromOther = await control.admit(bob, facts(push, { mountFrom: 'other/base' }));
    assert.deepEqual([fromOwn.ok && fromOwn.mount, fromOther.ok && fromOther.mount], [true, false]);
  });

  it('token mode challenges with Bearer, the token server as realm, the service and the scope', async () => {
    const control = new AccessControl({ ...deps, mode: 'token', realm: '', service: 'berth-test' });
    const challenge = refusal(await control.admit(bob, facts({ action: 'pull', repository: 'team/app' })));
    assert.equal(challenge.code, 'UNAUTHORIZED');
    assert.equal(challenge.headers['WWW-Authenticate'], 'Bearer realm="https://registry.test/auth/token",service="berth-test",scope="repository:team/app:pull"');
  });
});
