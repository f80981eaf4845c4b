// Replication through the admin API and `berth replication`: endpoints and policies added, shown
// (passwords never), changed and removed with an audit entry each; passwords sealed at rest;
// run now, history, a parked job retried; the per-policy metrics.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startAuthRegistry, PASSWORD, type AuthRegistry } from '../auth/support.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { berthJson, runBerth } from '../support/cli.js';
import { basic, digestAt, eventually, replicationSection } from './support.js';
import { readAudit } from '../../src/auth/audit.js';

const SECRET = 'Endpoint-Pw-31337';
const CLI_SECRET = 'Cli-Endpoint-Pw-4242';

describe('replication admin API and CLI', () => {
  let dest: TestRegistry;
  let source: AuthRegistry;
  let config: string;
  const admin = basic('root', PASSWORD);
  const api = async (method: string, path: string, body?: unknown) => {
    const res = await fetch(`${source.url}/api/v1${path}`, {
      method, headers: { authorization: admin, ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
    const text = await res.text();
    return { status: res.status, text, json: () => JSON.parse(text) as unknown };
  };

  /** A one-blob image pushed as the administrator; returns its manifest. */
  const pushAsAdmin = async (repo: string, config: string) => {
    const c = blob(config);
    const m = imageManifest(c, []);
    const up = await fetch(`${source.url}/v2/${repo}/blobs/uploads/?digest=${c.digest}`, { method: 'POST', body: c.data, headers: { authorization: admin, 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 201);
    const r = await fetch(`${source.url}/v2/${repo}/manifests/v1`, { method: 'PUT', body: m.body, headers: { authorization: admin, 'content-type': m.mediaType } });
    assert.equal(r.status, 201);
    return m;
  };

  before(async () => {
    dest = await startTestRegistry();
    const key = randomBytes(32).toString('base64');
    source = await startAuthRegistry('basic', {}, {
      storage: 'filesystem',
      configure: (c) => {
        c.replication = replicationSection({ key, maxattempts: 2 });
        c.metrics = { ...c.metrics, mainlistener: true };
      },
    });
    await source.store.addUser('root', PASSWORD, true);
    config = join(source.dir, 'config.yml');
    writeFileSync(config, ['version: 0.1', 'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(source.root)}`, 'replication:', `  key: ${key}`, ''].join('\n'));
  });
  after(async () => {
    await source?.close();
    await dest?.close();
  });

  it('adds an endpoint whose password is sealed at rest and never returned', async () => {
    const put = await api('PUT', '/replication/endpoints/dr', { url: dest.url, username: 'robot', password: SECRET });
    assert.equal(put.status, 200, put.text);
    assert.doesNotMatch(put.text, new RegExp(SECRET));
    const list = await api('GET', '/replication/endpoints');
    assert.deepEqual((list.json() as Array<{ name: string; hasPassword: boolean }>).map((e) => [e.name, e.hasPassword]), [['dr', true]]);
    assert.doesNotMatch(list.text, new RegExp(SECRET));
    const row = await source.server.replication!.catalog.endpoint('dr');
    assert.equal(row?.password, SECRET, 'the replica reads it back');
    const db = readFileSync(join(source.root!, 'berth', 'meta.sqlite'));
    assert.ok(!db.includes(Buffer.from(SECRET)), 'the plaintext is not in the database file');
  });

  it('refuses a policy with a bad glob, naming the key', async () => {
    const bad = await api('PUT', '/replication/policies/p', { direction: 'push', endpoint: 'dr', repositories: ['team/{x'], trigger: { event: true } });
    assert.equal(bad.status, 400);
    assert.match(bad.text, /repositories\[0\]/);
  });

  it('adds a policy that replicates on events, audited, and shows its runs', async () => {
    const put = await api('PUT', '/replication/policies/to-dr', { direction: 'push', endpoint: 'dr', repositories: ['team/*'], trigger: { event: true } });
    assert.equal(put.status, 200, put.text);
    const m = await pushAsAdmin('team/app', '{"admin":1}');
    assert.equal(await eventually('team/app:v1 at dr', () => digestAt(dest.url, 'team/app', 'v1')), m.digest);
    const history = await api('GET', '/replication/policies/to-dr/history');
    const jobs = history.json() as Array<{ state: string; images: number }>;
    assert.ok(jobs.some((j) => j.state === 'done' && j.images === 1), history.text);
    const audit = await readAudit(source.server.auth!.meta.db, { action: 'replication.policy.set' });
    assert.equal(audit[0]?.target, 'to-dr');
    assert.equal(audit[0]?.actor, 'root');
  });

  it('runs a policy now, and the CLI lists it and its history', async () => {
    const run = await api('POST', '/replication/policies/to-dr/run');
    assert.equal(run.status, 202, run.text);
    await eventually('the manual run done', async () => ((await source.server.replication!.store.history({ policy: 'to-dr' })).find((j) => j.kind === 'run' && j.state === 'done') ? true : undefined));
    const list = await berthJson<{ policies: Array<{ name: string; origin: string; jobs: Record<string, number> }>; endpoints: Array<Record<string, unknown>> }>(['replication', 'list', '--config', config]);
    assert.deepEqual(list.policies.map((p) => [p.name, p.origin]), [['to-dr', 'api']]);
    assert.ok((list.policies[0]!.jobs.done ?? 0) >= 2);
    assert.ok(!JSON.stringify(list).includes(SECRET));
    const history = await berthJson<Array<{ kind: string; state: string; skipped: number }>>(['replication', 'history', 'to-dr', '--config', config]);
    assert.ok(history.some((j) => j.kind === 'run' && j.state === 'done' && j.skipped === 1), JSON.stringify(history));
  });

  it('retries a parked job by hand, through the CLI', async () => {
    const put = await api('PUT', '/replication/endpoints/gone', { url: 'http://127.0.0.1:9', username: 'x', password: 'y' });
    assert.equal(put.status, 200);
    await api('PUT', '/replication/policies/to-gone', { direction: 'push', endpoint: 'gone', repositories: ['team/*'], trigger: { schedule: '0 0 1 1 *' } });
    const store = source.server.replication!.store;
    await store.enqueue({ policy: 'to-gone', kind: 'run', trigger: 'manual', id: 'gone-1' });
    await eventually('the job parked', async () => ((await store.get('gone-1'))?.state === 'parked' ? true : undefined), 60_000);
    const parked = await berthJson<Array<{ id: string }>>(['replication', 'history', '--parked', '--config', config]);
    assert.deepEqual(parked.map((j) => j.id), ['gone-1']);
    const retried = await runBerth(['replication', 'retry', 'gone-1', '--config', config]);
    assert.equal(retried.code, 0, retried.stderr);
    assert.match(retried.stdout, /1 job\(s\) queued again/);
    const again = await store.get('gone-1');
    assert.ok(again && again.trigger === 'retry' && again.state !== 'done');
    const rm = await api('DELETE', '/replication/policies/to-gone');
    assert.equal(rm.status, 204);
  });

  it('adds, lists and removes endpoints and policies through the CLI, audited, naming a bad key', async () => {
    const pwFile = join(source.dir, 'cli-dr.pw');
    writeFileSync(pwFile, `${CLI_SECRET}\n`);
    const endpointFile = join(source.dir, 'endpoint.yml');
    writeFileSync(endpointFile, `- name: cli-dr\n  url: ${dest.url}\n  username: robot\n  passwordfile: ${pwFile}\n`);
    const put = await runBerth(['replication', 'endpoint', 'put', endpointFile, '--config', config]);
    assert.equal(put.code, 0, put.stderr);
    assert.ok(!readFileSync(join(source.root!, 'berth', 'meta.sqlite')).includes(Buffer.from(CLI_SECRET)), 'sealed at rest');
    assert.equal((await source.server.replication!.catalog.endpoint('cli-dr'))?.password, CLI_SECRET);

    const policyFile = join(source.dir, 'policy.yml');
    const policy = (tags: string) => `name: from-cli\ndirection: push\nendpoint: cli-dr\nrepositories: ["cli/*"]\ntags: "${tags}"\ndestination: copy/\ntrigger: {event: true}\n`;
    writeFileSync(policyFile, policy('(v'));
    const bad = await runBerth(['replication', 'policy', 'put', policyFile, '--config', config]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /policy\.tags: "\(v" is not a valid regular expression/);
    writeFileSync(policyFile, policy('^v'));
    const good = await runBerth(['replication', 'policy', 'put', policyFile, '--config', config]);
    assert.equal(good.code, 0, good.stderr);
    const listed = await berthJson<Array<{ name: string; origin: string }>>(['replication', 'policy', 'list', '--config', config]);
    assert.ok(listed.some((p) => p.name === 'from-cli' && p.origin === 'api'), JSON.stringify(listed));
    const endpoints = await berthJson<Array<{ name: string; hasPassword: boolean }>>(['replication', 'endpoint', 'list', '--config', config]);
    assert.ok(endpoints.some((e) => e.name === 'cli-dr' && e.hasPassword));
    assert.ok(!JSON.stringify(endpoints).includes(CLI_SECRET));

    // The running server replicates by the policy the CLI stored.
    const m = await pushAsAdmin('cli/app', '{"cli":1}');
    assert.equal(await eventually('copy/cli/app:v1 at dr', () => digestAt(dest.url, 'copy/cli/app', 'v1')), m.digest);

    const inUse = await runBerth(['replication', 'endpoint', 'rm', 'cli-dr', '--config', config]);
    assert.equal(inUse.code, 1);
    assert.match(inUse.stderr, /used by policies from-cli/);
    assert.equal((await runBerth(['replication', 'policy', 'rm', 'from-cli', '--config', config])).code, 0);
    assert.equal((await runBerth(['replication', 'endpoint', 'rm', 'cli-dr', '--config', config])).code, 0);
    const db = source.server.auth!.meta.db;
    const actions = (await readAudit(db, {})).filter((a) => a.target === 'cli-dr' || a.target === 'from-cli').map((a) => [a.action, a.actor.startsWith('cli:')]);
    assert.deepEqual(actions.sort(), [
      ['replication.endpoint.rm', true], ['replication.endpoint.set', true], ['replication.policy.rm', true], ['replication.policy.set', true],
    ]);
  });

  it('exports metrics per policy', async () => {
    const res = await fetch(`${source.url}/metrics`);
    const text = await res.text();
    assert.match(text, /berth_replication_images_total\{policy="to-dr"\} [1-9]/);
    assert.match(text, /berth_replication_jobs\{policy="to-dr",state="done"\} [1-9]/);
  });
});
