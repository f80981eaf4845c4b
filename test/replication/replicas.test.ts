// Two `berth serve` processes sharing PostgreSQL (and their storage): every pushed tag is
// replicated exactly once, whichever replica took the push; and a replica killed with SIGKILL in
// the middle of a large copy leaves its job to the other, which finishes it without sending
// again a blob the destination already had.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { writeFile } from 'node:fs/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { BERTH_BIN, IN_CI, cleanEnv, freePort, stopChild, tempDir, removeDir } from '../e2e/support/env.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { CountingProxy } from '../fakes/counting-upstream.js';
import { blob, imageManifest, randomBlob } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { digestAt, eventually } from './support.js';

const skip = !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;

async function replica(work: string, name: string, root: string, pgUrl: string, destination: string): Promise<ServerProcess> {
  const port = await freePort();
  const config = join(work, `${name}.yml`);
  await writeFile(config, [
    'version: 0.1', 'log:', '  level: warn', '  accesslog:', '    disabled: true',
    'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(root)}`, '  delete:', '    enabled: true',
    '  maintenance:', '    uploadpurging:', '      enabled: false',
    'http:', `  addr: 127.0.0.1:${port}`,
    'meta:', '  postgres:', `    url: ${JSON.stringify(pgUrl)}`,
    'replication:', '  lease: 2s', '  poll: 200ms', '  backoff: 200ms', '  maxbackoff: 1s',
    '  endpoints:', '    - name: dest', `      url: ${destination}`,
    '  policies:',
    '    - name: each', '      direction: push', '      endpoint: dest', '      repositories: ["app/*"]', '      trigger: {event: true}',
    '    - name: slow', '      direction: push', '      endpoint: dest', '      repositories: ["big/*"]', '      trigger: {event: true}',
    '      concurrency: 1', '      bandwidth: 1MiB/s', '',
  ].join('\n'));
  return startServerProcess({ label: `berth ${name}`, command: process.execPath, args: [BERTH_BIN, 'serve', config], env: cleanEnv(), port });
}

describe('replicas sharing PostgreSQL', { skip }, () => {
  let work: string;
  let dest: TestRegistry;
  let counting: CountingProxy;
  let a: ServerProcess;
  let b: ServerProcess;

  before(async () => {
    work = await tempDir('replication-replicas');
    const pgUrl = await freshPostgresDatabase('repl');
    dest = await startTestRegistry();
    counting = await CountingProxy.start(dest.host);
    const root = join(work, 'storage');
    a = await replica(work, 'a', root, pgUrl, counting.url);
    b = await replica(work, 'b', root, pgUrl, counting.url);
  });
  after(async () => {
    if (a) await stopChild(a.child, 'SIGKILL');
    if (b) await stopChild(b.child);
    await counting?.close();
    await dest?.close();
    await removeDir(work);
  });

  it('replicates every pushed tag exactly once, whichever replica took the push', async () => {
    const pushed: Array<{ tag: string; digest: string }> = [];
    for (let i = 0; i < 8; i++) {
      const target = i % 2 === 0 ? a : b;
      const c = blob(`{"replica":${i}}`);
      const m = imageManifest(c, []);
      await pushBlob(target.url, 'app/one', c);
      await pushManifest(target.url, 'app/one', `t${i}`, m);
      pushed.push({ tag: `t${i}`, digest: m.digest });
    }
    for (const p of pushed) assert.equal(await eventually(`app/one:${p.tag}`, () => digestAt(dest.url, 'app/one', p.tag)), p.digest);
    for (const p of pushed) {
      assert.equal(counting.count('PUT', new RegExp(`/v2/app/one/manifests/${p.tag}$`)), 1, `${p.tag} was put ${counting.count('PUT', new RegExp(`/manifests/${p.tag}$`))} times`);
    }
  });

  it('a replica killed in the middle of a copy leaves the job to the other, which finishes without sending a blob twice', async () => {
    counting.reset();
    const layers = [randomBlob(1024 * 1024), randomBlob(1024 * 1024), randomBlob(1024 * 1024), randomBlob(1024 * 1024)];
    const c = blob('{"big":1}');
    const m = imageManifest(c, layers);
    for (const l of [c, ...layers]) await pushBlob(a.url, 'big/app', l);
    // The push goes to A; whichever replica claims the job, the one holding it is killed.
    await pushManifest(a.url, 'big/app', 'v1', m);
    const sentOne = () => counting.seen.some((r) => r.method === 'PUT' && r.status === 201 && /\/blobs\/uploads\//.test(r.path));
    await eventually('the first blob sent', async () => (sentOne() ? true : undefined));
    // Which replica holds the lease is not known from outside: stopping A leaves B, and a job
    // B holds simply goes on there; either way the one that survives must finish it.
    await stopChild(a.child, 'SIGKILL');
    assert.equal(await eventually('big/app:v1 at the destination', () => digestAt(dest.url, 'big/app', 'v1'), 60_000), m.digest);
    const completed = new Map<string, number>();
    for (const r of counting.seen) {
      if (r.method !== 'PUT' || r.status !== 201 || !/\/blobs\/uploads\//.test(r.path)) continue;
      const digest = new URL(r.path, 'http://x').searchParams.get('digest')!;
      completed.set(digest, (completed.get(digest) ?? 0) + 1);
    }
    assert.deepEqual([...completed.values()].filter((n) => n > 1), [], 'a blob was sent twice');
    for (const l of [c, ...layers]) {
      const res = await fetch(`${dest.url}/v2/big/app/blobs/${l.digest}`);
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(await res.arrayBuffer()).equals(l.data), true, `${l.digest} verifies`);
    }
  });
});
