// Runs the authenticator contract suite against every authenticator: the htpasswd file, database
// users, robot accounts and bearer tokens. Each fixture only builds an instance and names the
// credentials it must accept and refuse.
import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import bcrypt from 'bcryptjs';
import { authenticatorSuite } from '../suites/auth.suite.js';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { AccessStore } from '../../src/auth/access-store.js';
import { HtpasswdFile } from '../../src/auth/htpasswd.js';
import { SecretMatcher } from '../../src/auth/secrets.js';
import { HtpasswdAuthenticator } from '../../src/auth/authenticators/htpasswd.js';
import { DatabaseUserAuthenticator } from '../../src/auth/authenticators/users.js';
import { RobotAuthenticator } from '../../src/auth/authenticators/robots.js';
import { BearerTokenAuthenticator } from '../../src/auth/token/authenticator.js';
import { TokenIssuer } from '../../src/auth/token/issuer.js';
import { loadOrCreateSigningKey } from '../../src/auth/token/keys.js';
import { CredentialStamps } from '../../src/auth/token/revocation.js';
import { TokenVerifier } from '../../src/auth/token/verifier.js';
import { Subjects } from '../../src/auth/subjects.js';

const PASSWORD = 'correct-horse-9';
const basic = (user: string, password: string) => ({ kind: 'basic' as const, user, password });
const bearer = (token: string) => ({ kind: 'bearer' as const, token });

async function database(): Promise<{ store: AccessStore; close: () => Promise<void> }> {
  const dir = mkdtempSync(join(tmpdir(), 'berth-authn-'));
  const meta: MetaDatabase = await openMetaDatabase({ sqlite: { path: join(dir, 'meta.sqlite') } });
  return { store: new AccessStore(meta.db), close: async () => { await meta.close(); rmSync(dir, { recursive: true, force: true }); } };
}

authenticatorSuite('htpasswd file', { secret: 'password', expires: false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'berth-htpasswd-'));
  const path = join(dir, 'htpasswd');
  writeFileSync(path, `alice:${bcrypt.hashSync(PASSWORD, 5)}\n`);
  const secrets = new SecretMatcher();
  return {
    authenticator: new HtpasswdAuthenticator(new HtpasswdFile(path), secrets), secrets,
    valid: basic('alice', PASSWORD), identity: { kind: 'htpasswd', name: 'alice' },
    wrong: basic('alice', 'wrong-password'), unknown: basic('nobody', 'wrong-password'), foreign: bearer('a.b.c'),
    revoke: async () => {
      writeFileSync(path, `alice:${bcrypt.hashSync('another-password', 5)}\n`);
      // The file is re-read when its modification time changes: make sure it does.
      const later = new Date(Date.now() + 5_000);
      utimesSync(path, later, later);
    },
    close: async () => rmSync(dir, { recursive: true, force: true }),
  };
});

authenticatorSuite('database users', { secret: 'password', expires: false }, async () => {
  const { store, close } = await database();
  await store.addUser('bob', PASSWORD);
  const secrets = new SecretMatcher();
  return {
    authenticator: new DatabaseUserAuthenticator(store, secrets), secrets,
    valid: basic('bob', PASSWORD), identity: { kind: 'user', name: 'bob' },
    wrong: basic('bob', 'wrong-password'), unknown: basic('nobody', 'wrong-password'), foreign: bearer('a.b.c'),
    revoke: () => store.setPassword('bob', 'another-password'),
    close,
  };
});

authenticatorSuite('robot accounts', { secret: 'password', expires: true }, async () => {
  const { store, close } = await database();
  await store.addProject('team');
  const permissions = [{ project: 'team', actions: ['pull'] }];
  await store.addRobot('ci', 'robot-secret-123456', permissions, null);
  await store.addRobot('old', 'robot-secret-654321', permissions, new Date(Date.now() - 60_000));
  const secrets = new SecretMatcher();
  return {
    authenticator: new RobotAuthenticator(store, secrets), secrets,
    valid: basic('robot$ci', 'robot-secret-123456'), identity: { kind: 'robot', name: 'robot$ci' },
    wrong: basic('robot$ci', 'wrong-secret'), unknown: basic('robot$nobody', 'wrong-secret'), foreign: basic('bob', PASSWORD),
    expired: { right: basic('robot$old', 'robot-secret-654321'), wrong: basic('robot$old', 'wrong-secret') },
    revoke: () => store.removeRobot('ci'),
    close,
  };
});

authenticatorSuite('bearer tokens (built-in token server)', { secret: 'token', expires: true }, async () => {
  const { store, close } = await database();
  await store.addUser('bob', PASSWORD);
  const key = loadOrCreateSigningKey(undefined);
  const options = { issuer: 'berth-test-issuer', service: 'berth-test', expiresInSec: 300, refreshExpiresInSec: 3600 };
  const issuer = new TokenIssuer({ key, ...options });
  const stamps = new CredentialStamps(key);
  const verifier = new TokenVerifier({ issuer: options.issuer, service: options.service, keys: [key.publicKey] });
  const access = [{ type: 'repository', name: 'team/app', actions: ['pull'] }];
  const stamp = stamps.of((await store.user('bob'))!.passwordHash);
  const valid = (await issuer.accessToken('bob', access, stamp)).token;
  // A forged signature: the last characters of the signature changed.
  const forged = `${valid.slice(0, -4)}${valid.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
  const stranger = new TokenIssuer({ key: loadOrCreateSigningKey(undefined), ...options });
  const old = new TokenIssuer({ key, ...options, expiresInSec: 1, now: () => new Date(Date.now() - 60_000) });
  return {
    authenticator: new BearerTokenAuthenticator(verifier, { subjects: new Subjects(store, stamps), issuer }), secrets: new SecretMatcher(),
    valid: bearer(valid), identity: { kind: 'token', name: 'bob' },
    wrong: bearer(forged), unknown: bearer((await stranger.accessToken('bob', access, stamp)).token), foreign: basic('bob', PASSWORD),
    expired: { right: bearer((await old.accessToken('bob', access, stamp)).token) },
    revoke: () => store.setPassword('bob', 'another-password'),
    close,
  };
});
