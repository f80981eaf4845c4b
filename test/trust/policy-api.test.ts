// Trust policies through the admin API, on SQLite and a real PostgreSQL: added with the key
// inline (PEM), listed beside config.yml's with their origin, in force at the very next pull
// (an unsigned image refused with DENIED, and let through once the policy is removed), a changed
// key dropping the cached verdicts, refusals naming the key, config.yml's names protected,
// administrators only, an audit entry per change, and a change through another catalog (the CLI,
// another replica) seen without waiting.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { stringify } from 'yaml';
import { berthJson, runBerth } from '../support/cli.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startAuthRegistry, PASSWORD, basic, image, pushWith, type AuthRegistry } from '../auth/support.js';
import { freshPostgresDatabase } from '../support/postgres.js';
import { forEachMetaDatabase } from '../suites/meta-databases.js';
import { makePki, type Pki } from './support/pki.js';
import { cosignLayer, cosignSignatureImage, opensslSign, simpleSigning } from './support/fixtures.js';
import { readAudit } from '../../src/auth/audit.js';
import { TrustCatalog } from '../../src/trust/catalog.js';
import { TrustPolicies } from '../../src/trust/policies.js';
import { requireClients } from '../e2e/support/env.js';

let dir: string;
let pki: Pki;
const gate = requireClients('openssl');

before(async () => {
  if (gate.skip) return;
  dir = await mkdtemp(join(tmpdir(), 'berth-trust-api-'));
  pki = await makePki(dir);
});
after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

forEachMetaDatabase('trust policies through the admin API', (backend) => {
  let reg: AuthRegistry;
  const admin = basic('root', PASSWORD);
  const bob = basic('bob', PASSWORD);
  let unsigned: ReturnType<typeof image>;
  let signed: ReturnType<typeof image>;

  const api = async (method: string, path: string, body?: unknown, authorization = admin) => {
    const res = await fetch(`${reg.url}/api/v1${path}`, {
      method, headers: { authorization, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as unknown };
  };
  const pull = async (repo: string, ref = 'v1') => {
    const res = await fetch(`${reg.url}/v2/${repo}/manifests/${ref}`, { headers: { authorization: admin, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    const text = await res.text();
    return { status: res.status, text };
  };
  const p256 = () => readFile(pki.keys.p256.pub, 'utf8');

  before(async () => {
    if (gate.skip) return;
    const url = backend.name === 'postgres' ? await freshPostgresDatabase() : undefined;
    reg = await startAuthRegistry('basic', {}, {
      configure: (c) => {
        if (url) c.meta = { ...c.meta, postgres: { url } };
        c.trust.policies = [{ name: 'fixed', repositories: ['fixed/*'], mode: 'audit', keys: [pki.keys.p384.pub], exempt: [] }];
      },
    });
    await reg.store.addUser('root', PASSWORD, true);
    await reg.store.addUser('bob', PASSWORD);
    unsigned = image();
    signed = image();
    assert.equal(await pushWith(reg.url, 'prod/app', 'v1', unsigned, admin), 201);
    assert.equal(await pushWith(reg.url, 'prod/signed', 'v1', signed, admin), 201);
    const payload = simpleSigning('prod/signed', signed.manifest.digest);
    const layer = cosignLayer(payload, { 'dev.cosignproject.cosign/signature': await opensslSign(dir, pki.keys.p256.key, payload) });
    const sig = cosignSignatureImage([layer]);
    assert.equal(await pushWith(reg.url, 'prod/signed', `${signed.manifest.digest.replace(':', '-')}.sig`, { config: sig.config, layer: layer.payload, manifest: sig.manifest }, admin), 201);
  });
  after(async () => {
    await reg?.close();
  });

  it('adds an enforce policy that refuses the unsigned image at the very next pull, and removes it', { skip: gate.skip }, async () => {
    assert.equal((await pull('prod/app')).status, 200, 'no policy yet');
    const put = await api('PUT', '/trust/policies/prod', { repositories: ['prod/*'], mode: 'enforce', keys: [await p256()] });
    assert.equal(put.status, 200, put.text);
    const view = put.json() as { name: string; origin: string; satisfiedBy: string };
    assert.equal(view.origin, 'api');
    assert.match(view.satisfiedBy, /sha256:[0-9a-f]{64}/, 'the inline key is named by its fingerprint');

    const refused = await pull('prod/app');
    assert.equal(refused.status, 403, refused.text);
    const err = (JSON.parse(refused.text) as { errors: { code: string; message: string; detail: { policy: string } }[] }).errors[0]!;
    assert.equal(err.code, 'DENIED');
    assert.equal(err.detail.policy, 'prod');
    assert.match(err.message, /policy "prod" requires a valid signature on prod\/app@sha256:/);
    assert.equal((await pull('prod/signed')).status, 200, 'signed with the policy\'s key');

    const list = await api('GET', '/trust/policies');
    assert.equal(list.status, 200, list.text);
    const views = list.json() as { name: string; origin: string; upstreams: string[]; mode: string }[];
    assert.deepEqual(views.map((v) => [v.name, v.origin, v.mode]), [['fixed', 'config', 'audit'], ['prod', 'api', 'enforce']]);
    assert.deepEqual(views[0]!.upstreams, []);

    // Another key: the signed image's cached verdict (under the old key) must not stand.
    const other = await api('PUT', '/trust/policies/prod', { repositories: ['prod/*'], mode: 'enforce', keys: [await readFile(pki.stranger.pub, 'utf8')] });
    assert.equal(other.status, 200, other.text);
    assert.equal((await pull('prod/signed')).status, 403, 'the verdict of the replaced policy was dropped');

    const rm = await api('DELETE', '/trust/policies/prod');
    assert.equal(rm.status, 204, rm.text);
    assert.equal((await pull('prod/app')).status, 200, 'DELETE lifts it at once');
    assert.equal((await api('DELETE', '/trust/policies/prod')).status, 404);

    const audit = await readAudit(reg.server.auth!.meta.db, {});
    const trustEntries = audit.filter((a) => a.action.startsWith('trust.policy.')).map((a) => [a.action, a.target, a.actor]);
    assert.deepEqual(trustEntries, [['trust.policy.rm', 'prod', 'root'], ['trust.policy.set', 'prod', 'root'], ['trust.policy.set', 'prod', 'root']]);
  });

  it('a stored policy that no longer reads refuses what it covers, saying why, until it is removed', { skip: gate.skip }, async () => {
    assert.equal(await pushWith(reg.url, 'legacy/app', 'v1', image(), admin), 201);
    assert.equal((await pull('legacy/app')).status, 200);
    // As a later, stricter Berth might find a row an earlier one stored: its key does not parse.
    const body = { name: 'legacy', repositories: ['legacy/*'], mode: 'enforce', keys: ['not a PEM key'], exempt: [] };
    await reg.server.auth!.meta.db.insertInto('trust_policies').values({ name: 'legacy', body: JSON.stringify(body), updated_at: Date.now() }).execute();
    const refused = await pull('legacy/app');
    assert.equal(refused.status, 403, refused.text);
    const err = (JSON.parse(refused.text) as { errors: { code: string; message: string }[] }).errors[0]!;
    assert.equal(err.code, 'DENIED');
    assert.match(err.message, /policy "legacy"/);
    assert.match(err.message, /cannot be read/);
    assert.equal((await api('DELETE', '/trust/policies/legacy')).status, 204);
    assert.equal((await pull('legacy/app')).status, 200, 'removed: served again');
  });

  it('refuses bodies naming the key: unknown keys, bad globs, a file path for a key, no way to be satisfied', { skip: gate.skip }, async () => {
    const cases: [unknown, RegExp][] = [
      [{ repositories: ['prod/*'], mode: 'enforce', keys: [await p256()], colour: 'red' }, /policy\.colour|colour/],
      [{ repositories: ['prod/{x'], mode: 'enforce', keys: [await p256()] }, /policy\.repositories\[0\]: "prod\/\{x" is not a valid glob/],
      [{ repositories: ['prod/*'], mode: 'enforce', keys: ['/etc/berth/cosign.pub'] }, /policy\.keys\[0\]: not a PEM public key/],
      [{ repositories: ['prod/*'], mode: 'enforce', keys: [await p256(), 'garbage'] }, /policy\.keys\[1\]/],
      [{ repositories: ['prod/*'], mode: 'enforce', certificates: { roots: ['not a certificate'] } }, /policy\.certificates\.roots\[0\]: no PEM certificate/],
      [{ repositories: ['prod/*'], mode: 'enforce' }, /policy: mode enforce needs keys, certificates, sigstore or notation/],
      [{ repositories: [], mode: 'audit', keys: [await p256()] }, /policy\.repositories/],
      [{ repositories: ['prod/*'], mode: 'sometimes', keys: [await p256()] }, /policy\.mode/],
      [{ name: 'other', repositories: ['prod/*'], keys: [await p256()] }, /differs from the name in the path/],
    ];
    for (const [body, message] of cases) {
      const r = await api('PUT', '/trust/policies/bad', body);
      assert.equal(r.status, 400, `${JSON.stringify(body)}: ${r.text}`);
      const e = r.json() as { errors: { code: string; message: string }[] };
      assert.equal(e.errors[0]!.code, 'INVALID');
      assert.match(e.errors[0]!.message, message);
    }
    const list = (await api('GET', '/trust/policies')).json() as { name: string }[];
    assert.ok(!list.some((p) => p.name === 'bad'), 'nothing stored');
  });

  it('refuses a name config.yml has, and a non-administrator', { skip: gate.skip }, async () => {
    const clash = await api('PUT', '/trust/policies/fixed', { repositories: ['x/*'], mode: 'audit', keys: [await p256()] });
    assert.equal(clash.status, 409, clash.text);
    assert.match(clash.text, /defined in config\.yml/);
    assert.equal((await api('DELETE', '/trust/policies/fixed')).status, 409);
    const denied = await api('PUT', '/trust/policies/sneaky', { repositories: ['prod/*'], mode: 'off' }, bob);
    assert.equal(denied.status, 403, denied.text);
    assert.equal((await api('GET', '/trust/policies', undefined, bob)).status, 403);
    assert.equal((await api('DELETE', '/trust/policies/fixed', undefined, bob)).status, 403);
    const anonymous = await fetch(`${reg.url}/api/v1/trust/policies/sneaky`, { method: 'PUT', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(anonymous.status, 401);
  });

  it('sees a policy another process stored at the next pull (stamp, no time window)', { skip: gate.skip }, async () => {
    // A second catalog over the same database, as `berth trust policy put` or another replica has.
    const cli = new TrustCatalog({ db: reg.server.auth!.meta.db, base: new TrustPolicies([]), verifies: [], changed: () => {}, warn: () => {} });
    assert.equal((await pull('prod/app')).status, 200);
    await cli.put({ name: 'elsewhere', repositories: ['prod/app'], mode: 'enforce', keys: [await p256()] });
    assert.equal((await pull('prod/app')).status, 403);
    // A config.yml naming the stored policy: start refuses, naming both.
    const later = new TrustCatalog({
      db: reg.server.auth!.meta.db, base: new TrustPolicies([{ name: 'elsewhere', repositories: ['x/*'], mode: 'off', keys: [], exempt: [] }]),
      verifies: [], changed: () => {}, warn: () => {},
    });
    await assert.rejects(later.refuseShadowing(), /trust policy "elsewhere" is in config\.yml and was also added through the API/);
    await cli.delete('elsewhere');
    assert.equal((await pull('prod/app')).status, 200);
  });
});

describe('trust policies through the admin API, with none in config.yml (trust loaded when one is stored)', () => {
  let reg: AuthRegistry;
  const admin = basic('root', PASSWORD);
  const lazyImage = image();
  const pull = async (repo: string) => (await fetch(`${reg.url}/v2/${repo}/manifests/v1`, { headers: { authorization: admin, accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
  // The registry's own store: the CLI test writes a config.yml naming it.
  before(async () => {
    if (gate.skip) return;
    reg = await startAuthRegistry('basic', {}, { storage: 'filesystem' });
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await pushWith(reg.url, 'lazy/app', 'v1', lazyImage, admin), 201);
  });
  after(async () => {
    await reg?.close();
  });

  it('guards the next pull once a policy is stored, through the API or another catalog', { skip: gate.skip }, async () => {
    assert.equal(reg.server.trust, undefined, 'nothing of trust loaded at start');
    assert.equal(await pull('lazy/app'), 200);
    const other = new TrustCatalog({ db: reg.server.auth!.meta.db, base: new TrustPolicies([]), verifies: [], changed: () => {}, warn: () => {} });
    await other.put({ name: 'lazy', repositories: ['lazy/*'], mode: 'enforce', keys: [await readFile(pki.keys.p256.pub, 'utf8')] });
    assert.equal(await pull('lazy/app'), 403);
    const rm = await fetch(`${reg.url}/api/v1/trust/policies/lazy`, { method: 'DELETE', headers: { authorization: admin } });
    assert.equal(rm.status, 204);
    assert.equal(await pull('lazy/app'), 200);
    const put = await fetch(`${reg.url}/api/v1/trust/policies/lazy`, {
      method: 'PUT', headers: { authorization: admin, 'content-type': 'application/json' },
      body: JSON.stringify({ repositories: ['lazy/*'], mode: 'enforce', keys: [await readFile(pki.keys.p256.pub, 'utf8')] }),
    });
    assert.equal(put.status, 200, await put.text());
    assert.equal(await pull('lazy/app'), 403);
    // Signed: served, and the read API's signature list carries the stored policy's verdict.
    const payload = simpleSigning('lazy/app', lazyImage.manifest.digest);
    const layer = cosignLayer(payload, { 'dev.cosignproject.cosign/signature': await opensslSign(dir, pki.keys.p256.key, payload) });
    const sig = cosignSignatureImage([layer]);
    assert.equal(await pushWith(reg.url, 'lazy/app', `${lazyImage.manifest.digest.replace(':', '-')}.sig`, { config: sig.config, layer: layer.payload, manifest: sig.manifest }, admin), 201);
    assert.equal(await pull('lazy/app'), 200);
    const detail = await (await fetch(`${reg.url}/api/v1/repositories/lazy/app/-/artifacts/v1`, { headers: { authorization: admin } })).json() as { signatures: { verified: boolean | null }[] };
    assert.deepEqual(detail.signatures.map((s) => s.verified), [true]);
  });

  it('berth trust policy put|list|rm: checked, audited, in force at the next pull', { skip: gate.skip }, async () => {
    assert.ok(reg.root, 'a filesystem registry: the CLI opens its database');
    const config = join(reg.dir, 'config.yml');
    await writeFile(config, ['version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(reg.root)}`,
      'auth:', '  htpasswd:', '    realm: berth-test', `    path: ${JSON.stringify(join(reg.dir, 'htpasswd'))}`, ''].join('\n'));
    const file = join(dir, 'cli-policy.yml');
    await writeFile(file, stringify({ name: 'cli', repositories: ['cli/*'], mode: 'enforce', keys: [await readFile(pki.keys.p256.pub, 'utf8')] }));
    assert.equal(await pushWith(reg.url, 'cli/app', 'v1', image(), admin), 201);
    assert.equal(await pull('cli/app'), 200);
    const put = await runBerth(['trust', 'policy', 'put', file, '--config', config]);
    assert.equal(put.code, 0, put.stderr);
    assert.equal(await pull('cli/app'), 403);
    const list = await berthJson<{ name: string; origin: string }[]>(['trust', 'policy', 'list', '--json', '--config', config]);
    assert.deepEqual(list.map((p) => [p.name, p.origin]), [['cli', 'api'], ['lazy', 'api']]);
    const bad = join(dir, 'bad-policy.yml');
    await writeFile(bad, stringify({ name: 'bad', repositories: ['cli/*'], mode: 'enforce', keys: ['/etc/berth/cosign.pub'] }));
    const refused = await runBerth(['trust', 'policy', 'put', bad, '--config', config]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /policy\.keys\[0\]: not a PEM public key/);
    const rm = await runBerth(['trust', 'policy', 'rm', 'cli', '--config', config]);
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(await pull('cli/app'), 200);
    const entries = (await readAudit(reg.server.auth!.meta.db, {})).filter((a) => a.target === 'cli').map((a) => [a.action, a.actor.startsWith('cli:')]);
    assert.deepEqual(entries, [['trust.policy.rm', true], ['trust.policy.set', true]]);
  });
});
