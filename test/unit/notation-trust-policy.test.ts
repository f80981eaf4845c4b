// Notation's trustpolicy.json read into Berth policies (src/trust/notation-policy.ts): the
// document rules notation-go applies, the mapping of scopes to this registry's repositories and of
// levels to modes, trust stores by Notation's layout, and trusted identities matched as Notation
// matches them (a subset of the signing certificate's subject).
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm, writeFile, symlink } from 'node:fs/promises';
import { readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { X509Certificate } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { NotationPolicyError, identityAcceptsCertificate, parseDN, parseNotationPolicy, readTrustStore } from '../../src/trust/notation-policy.js';
import { TrustPolicies } from '../../src/trust/policies.js';
import { ConfigError, loadConfig } from '../../src/config/load.js';

const FIXTURES = fileURLToPath(new URL('../../../test/trust/fixtures/', import.meta.url));
const STORE = join(FIXTURES, 'notation/truststore');
const E2E = new X509Certificate(readFileSync(join(STORE, 'x509/ca/e2e/e2e.crt')));

const statement = (over: Record<string, unknown> = {}) => ({
  name: 'p', registryScopes: ['registry.example.com/app'], signatureVerification: { level: 'strict' }, trustStores: ['ca:e2e'], trustedIdentities: ['*'], ...over,
});
const doc = (...statements: unknown[]) => JSON.stringify({ version: '1.0', trustPolicies: statements });
const problems = (text: string): string[] => {
  try {
    parseNotationPolicy(text, ['registry.example.com']);
  } catch (err) {
    assert.ok(err instanceof NotationPolicyError, String(err));
    return err.problems;
  }
  assert.fail('the document was accepted');
};

describe('trustpolicy.json: the document', () => {
  it('reads the specification\'s example and maps it onto this registry', () => {
    // The Notary Project's example document (trust-store-trust-policy.md), scopes for two registries.
    const example = doc(
      { name: 'wabbit-networks-images', registryScopes: ['registry.acme-rockets.io/software/net-monitor', 'registry.wabbit-networks.io/software/net-logger'], signatureVerification: { level: 'strict' }, trustStores: ['ca:wabbit-networks-dev', 'signingAuthority:wabbit-networks-sa'], trustedIdentities: ['x509.subject: C=US, ST=WA, L=Seattle, O=wabbit-networks.io, OU=Security Tools'] },
      { name: 'unsigned-image', registryScopes: ['registry.acme-rockets.io/software/unsigned/net-utils'], signatureVerification: { level: 'skip' } },
      { name: 'global-policy-for-all-other-images', registryScopes: ['*'], signatureVerification: { level: 'audit' }, trustStores: ['ca:acme-rockets-ca'], trustedIdentities: ['*'] },
      { name: 'custom', registryScopes: ['registry.acme-rockets.io/team/app'], signatureVerification: { level: 'strict', override: { expiry: 'log', revocation: 'skip' } }, trustStores: ['ca:acme-rockets-ca'], trustedIdentities: ['*'] },
      { name: 'logged-authenticity', registryScopes: ['registry.acme-rockets.io/team/lab'], signatureVerification: { level: 'strict', override: { authenticity: 'log' } }, trustStores: ['ca:acme-rockets-ca'], trustedIdentities: ['*'] },
    );
    const s = parseNotationPolicy(example, ['REGISTRY.acme-rockets.io']);
    assert.deepEqual(s.map((x) => [x.name, x.mode, x.repositories]), [
      ['wabbit-networks-images', 'enforce', ['software/net-monitor']],
      ['unsigned-image', 'off', ['software/unsigned/net-utils']],
      ['global-policy-for-all-other-images', 'audit', ['*']],
      ['custom', 'enforce', ['team/app']],
      ['logged-authenticity', 'audit', ['team/lab']],
    ]);
    assert.deepEqual(s[0]!.trustStores, [{ type: 'ca', name: 'wabbit-networks-dev' }, { type: 'signingAuthority', name: 'wabbit-networks-sa' }]);
    assert.equal(s[0]!.actions.expiry, 'enforce');
    assert.equal(s[2]!.actions.expiry, 'log');
    assert.equal(s[3]!.actions.expiry, 'log');
    assert.equal(s[3]!.actions.revocation, 'skip');
    // A scope with a port is its own registry name.
    assert.deepEqual(parseNotationPolicy(doc(statement({ registryScopes: ['localhost:5000/app'] })), ['localhost:5000'])[0]!.repositories, ['app']);
    assert.deepEqual(parseNotationPolicy(doc(statement({ registryScopes: ['localhost:5000/app'] })), ['localhost'])[0]!.repositories, []);
  });

  it('refuses what notation refuses, naming the field', () => {
    const cases: [string, RegExp][] = [
      ['{', /^not JSON/],
      [JSON.stringify({ version: '2.0', trustPolicies: [statement()] }), /^version: "2\.0", and the supported version is "1\.0"/],
      [JSON.stringify({ version: '1.0', trustPolicies: [] }), /^trustPolicies: the document needs at least one/],
      [JSON.stringify({ version: '1.0', trustPolicies: [statement()], extra: 1 }), /^extra: not a field of a trust policy document/],
      [doc(statement({ registryscopes: [] })), /^trustPolicies\[0\]\.registryscopes: not a field/],
      [doc(statement(), statement()), /^trustPolicies\[1\]\.name: "p" is used by another statement/],
      [doc(statement({ name: '' })), /^trustPolicies\[0\]\.name: every statement needs a name/],
      [doc(statement({ registryScopes: [] })), /^trustPolicies\[0\]\.registryScopes: needs at least one scope/],
      [doc(statement({ registryScopes: ['*', 'registry.example.com/app'] })), /the wildcard "\*" cannot be used with other scopes/],
      [doc(statement({ registryScopes: ['registry.example.com/app/*'] })), /registryScopes\[0\]: .*a wildcard is only valid as the whole scope/],
      [doc(statement({ registryScopes: ['app'] })), /registryScopes\[0\]: "app" is not REGISTRY\/REPOSITORY/],
      [doc(statement({ registryScopes: ['registry.example.com/App:v1'] })), /is not REGISTRY\/REPOSITORY/],
      [doc(statement(), statement({ name: 'q' })), /^trustPolicies\[1\]\.registryScopes\[0\]: "registry\.example\.com\/app" is also a scope of "p"/],
      [doc(statement({ registryScopes: ['*'] }), statement({ name: 'q', registryScopes: ['*'] })), /"\*" is also the scope of "p"/],
      [doc(statement({ signatureVerification: { level: 'lenient' } })), /signatureVerification\.level: "lenient" is not strict, permissive, audit or skip/],
      [doc(statement({ signatureVerification: { level: 'strict', override: { integrity: 'log' } } })), /override\.integrity: integrity cannot be overridden/],
      [doc(statement({ signatureVerification: { level: 'strict', override: { expiry: 'skip' } } })), /override\.expiry: only revocation can be skipped/],
      [doc(statement({ signatureVerification: { level: 'skip', override: { revocation: 'log' } } })), /level skip cannot be customised/],
      [doc(statement({ signatureVerification: { level: 'skip' } })), /level skip takes no trustStores or trustedIdentities/],
      [doc(statement({ trustStores: [] })), /trustStores: needs at least one trust store/],
      [doc(statement({ trustedIdentities: [] })), /trustedIdentities: needs at least one identity/],
      [doc(statement({ trustStores: ['e2e'] })), /trustStores\[0\]: "e2e" is not TYPE:NAME/],
      [doc(statement({ trustStores: ['x509:e2e'] })), /the type is not ca, signingAuthority or tsa/],
      [doc(statement({ trustStores: ['ca:../etc'] })), /a store name is letters, digits/],
      [doc(statement({ trustedIdentities: ['*', 'x509.subject: C=US, ST=WA, O=A'] })), /the wildcard "\*" cannot be used with other identities/],
      [doc(statement({ trustedIdentities: ['x509.subject: C=US, O=A'] })), /trustedIdentities\[0\]: .*names C, ST and O at least \(ST is missing\)/],
      [doc(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=A, O=B'] })), /O appears twice/],
      [doc(statement({ trustedIdentities: ['x509.subject: C=US+ST=WA, O=A'] })), /multi-valued RDNs are not supported/],
      [doc(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=#0403'] })), /"=#"\) are not supported/],
      [doc(statement({ trustedIdentities: ['wabbit.plugin.id: 42'] })), /a plugin's identities cannot be honoured/],
      [doc(statement({ trustedIdentities: ['x509.subject: C=US, ST=WA, O=A', 'x509.subject: C=US, ST=WA, O=A, CN=b'] })), /"x509\.subject: C=US, ST=WA, O=A" overlaps with/],
    ];
    for (const [text, expected] of cases) {
      const got = problems(text);
      assert.ok(got.some((p) => expected.test(p)), `${text}\n  expected ${expected}\n  got ${JSON.stringify(got)}`);
    }
  });
});

describe('trustpolicy.json: distinguished names and identities', () => {
  it('parses RFC 4514 names: escapes, hex escapes, quoted values, spaces', () => {
    assert.deepEqual([...parseDN('C=US, ST=WA,O=Acme\\, Inc. ,  cn = a\\2Bb ')], [['C', 'US'], ['ST', 'WA'], ['O', 'Acme, Inc.'], ['CN', 'a+b']]);
    assert.deepEqual([...parseDN('O="Acme, Inc.";L=\\C3\\A9t\\C3\\A9')], [['O', 'Acme, Inc.'], ['L', 'été']]);
    for (const bad of ['', 'C', 'C=US,', 'C=US, =x', 'O="open']) assert.throws(() => parseDN(bad), Error, bad);
  });

  it('matches as Notation does: every attribute of the identity in the signer\'s subject', () => {
    assert.equal(E2E.subject, 'C=US\nST=WA\nL=Seattle\nO=Notary\nCN=e2e');
    for (const ok of ['*', 'x509.subject: C=US, ST=WA, O=Notary', 'x509.subject: CN=e2e, O=Notary, L=Seattle, ST=WA, C=US', 'x509.subject:C=US,ST=WA,O=Notary,cn=e2e']) {
      assert.equal(identityAcceptsCertificate(ok, E2E), true, ok);
    }
    for (const no of ['x509.subject: C=US, ST=WA, O=Notary, CN=release', 'x509.subject: C=US, ST=WA, O=Notary, OU=extra', 'x509.subject: C=US, ST=WA, O=notary', 'x509.subjects: C=US, ST=WA, O=Notary', 'C=US, ST=WA, O=Notary']) {
      assert.equal(identityAcceptsCertificate(no, E2E), false, no);
    }
  });
});

describe('trustpolicy.json: trust stores and policies', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-notation-policy-'));
    await mkdir(join(dir, 'store/x509/ca/empty'), { recursive: true });
    await mkdir(join(dir, 'store/x509/ca/der'), { recursive: true });
    await mkdir(join(dir, 'store/x509/ca/junk'), { recursive: true });
    await mkdir(join(dir, 'store/x509/ca/linked'), { recursive: true });
    await writeFile(join(dir, 'store/x509/ca/der/e2e.cer'), E2E.raw);
    await writeFile(join(dir, 'store/x509/ca/junk/notes.txt'), 'not a certificate');
    await symlink(join(STORE, 'x509/ca/e2e/e2e.crt'), join(dir, 'store/x509/ca/linked/e2e.crt'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('reads Notation\'s layout (PEM or DER files) and refuses a missing, empty or unreadable store', () => {
    assert.equal(readTrustStore(STORE, 'ca', 'e2e')[0]!.fingerprint256, E2E.fingerprint256);
    assert.equal(readTrustStore(join(dir, 'store'), 'ca', 'der')[0]!.fingerprint256, E2E.fingerprint256);
    assert.throws(() => readTrustStore(STORE, 'ca', 'missing'), /trust store ca:missing: cannot read .*x509\/ca\/missing: ENOENT/);
    assert.throws(() => readTrustStore(join(dir, 'store'), 'ca', 'empty'), /holds no certificate/);
    assert.throws(() => readTrustStore(join(dir, 'store'), 'ca', 'junk'), /notes\.txt is not a certificate/);
    assert.throws(() => readTrustStore(join(dir, 'store'), 'ca', 'linked'), /is not a regular file/);
  });

  it('builds policies after trust.policies, refusing at start with the key named', async () => {
    const file = join(dir, 'trustpolicy.json');
    await writeFile(file, doc(
      statement({ name: 'global', registryScopes: ['*'] }),
      statement({ name: 'app', signatureVerification: { level: 'permissive' } }),
    ));
    const config = { trustpolicy: file, truststore: STORE, registries: ['registry.example.com'], exempt: ['ci'] };
    const mine = { name: 'mine', repositories: ['mine/*'], mode: 'off' as const, keys: [], exempt: [] };
    const policies = new TrustPolicies([mine], config);
    assert.deepEqual(policies.all.map((p) => p.name), ['mine', 'app', 'global']);
    assert.equal(policies.match('app')?.name, 'app');
    assert.equal(policies.match('app/sub')?.name, 'global', 'a scope is one repository, not a prefix');
    assert.equal(policies.match('mine/x')?.name, 'mine');
    assert.equal(policies.match('a.pp')?.name, 'global');
    const app = policies.named('app')!;
    assert.equal(app.mode, 'enforce');
    assert.deepEqual([...app.exempt], ['ci']);
    assert.equal(app.material.notation?.expiry, 'log', 'permissive only logs expiry');
    assert.equal(app.material.notation?.roots[0]?.fingerprint256, E2E.fingerprint256);
    assert.equal(policies.named('global')!.material.notation?.expiry, 'enforce');

    const refused = (configs: ConstructorParameters<typeof TrustPolicies>[0], c: typeof config, expected: RegExp) => assert.throws(() => new TrustPolicies(configs, c), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.match(err.message, expected);
      return true;
    });
    refused([{ ...mine, name: 'app' }], config, /trust\.notation\.trustpolicy: .*statement "app" has the name of a policy of trust\.policies/);
    refused([], { ...config, trustpolicy: join(dir, 'nope.json') }, /trust\.notation\.trustpolicy: .*nope\.json: cannot read it: ENOENT/);
    await writeFile(join(dir, 'bad.json'), doc(statement({ trustStores: ['ca:e2e', 'tsa:missing'] })));
    refused([], { ...config, trustpolicy: join(dir, 'bad.json') }, /trust\.notation\.truststore: statement "p" of .*bad\.json: trust store tsa:missing: cannot read/);
    await writeFile(join(dir, 'bad.json'), doc(statement({ signatureVerification: {} })));
    refused([], { ...config, trustpolicy: join(dir, 'bad.json') }, /trust\.notation\.trustpolicy: .*bad\.json: trustPolicies\[0\]\.signatureVerification\.level: undefined is not strict/);
  });
});

describe('trust.notation in config.yml', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-notation-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });
  const load = (notation: string, extra = '') => {
    const file = join(dir, 'config.yml');
    writeFileSync(file, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${dir}\ntrust:\n  notation:\n${notation}${extra}`);
    return loadConfig({ file }).config;
  };

  it('reads the section, refuses unknown keys and missing registries, and leaves an upstream\'s verify: to start', async () => {
    const ok = load('    trustpolicy: /etc/notation/trustpolicy.json\n    truststore: /etc/notation/truststore\n    registries: [registry.example.com]\n');
    assert.deepEqual(ok.trust.notation, { trustpolicy: '/etc/notation/trustpolicy.json', truststore: '/etc/notation/truststore', registries: ['registry.example.com'], exempt: [] });
    assert.throws(() => load('    trustpolicy: /t.json\n    truststore: /s\n    registries: [r.example]\n    level: strict\n'), /trust\.notation\.level/);
    assert.throws(() => load('    trustpolicy: /t.json\n    truststore: /s\n'), /trust\.notation\.registries/);
    assert.throws(() => load('    trustpolicy: /t.json\n    truststore: /s\n    registries: [https://r.example/]\n'), /trust\.notation\.registries/);
    const withVerify = load('    trustpolicy: /t.json\n    truststore: /s\n    registries: [r.example]\n', 'proxy:\n  upstreams:\n    - name: hub\n      remoteurl: https://registry-1.docker.io\n      verify: some-statement\n');
    assert.equal(withVerify.proxy.upstreams[0]?.verify, 'some-statement');
  });
});

