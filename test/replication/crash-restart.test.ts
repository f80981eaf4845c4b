// One `berth serve` (SQLite, filesystem storage) killed with SIGKILL in the middle of a full
// replication run, then started again on the same config and storage: the run is taken up
// again when its lease runs out and finishes; the destination ends byte-exact with the source
// (every manifest and blob), no blob finished there twice, and the run and the event job
// queued before the kill each appear once in the history, done.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { writeFile } from 'node:fs/promises';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { startServerProcess, type ServerProcess } from '../support/processes.js';
import { BERTH_BIN, cleanEnv, freePort, stopChild, tempDir, removeDir } from '../e2e/support/env.js';
import { CountingProxy } from '../fakes/counting-upstream.js';
import { blob, imageManifest, randomBlob, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { pushBlob, pushManifest } from '../support/push.js';
import { digestAt, eventually } from './support.js';

const run = promisify(execFile);

async function source(config: string, port: number): Promise<ServerProcess> {
  return startServerProcess({ label: 'berth source', command: process.execPath, args: [BERTH_BIN, 'serve', config], env: cleanEnv(), port });
}

describe('replication cut by kill -9 of its only process', () => {
  let work: string;
  let dest: TestRegistry;
  let counting: CountingProxy;
  let src: ServerProcess | undefined;
  let config: string;
  let port: number;

  before(async () => {
    work = await tempDir('replication-crash');
    dest = await startTestRegistry();
    counting = await CountingProxy.start(dest.host);
    port = await freePort();
    config = join(work, 'config.yml');
    await writeFile(config, [
      'version: 0.1', 'log:', '  level: warn', '  accesslog:', '    disabled: true',
      'storage:', '  filesystem:', `    rootdirectory: ${JSON.stringify(join(work, 'storage'))}`, '  delete:', '    enabled: true',
      '  maintenance:', '    uploadpurging:', '      enabled: false',
      'http:', `  addr: 127.0.0.1:${port}`,
      'replication:', '  lease: 2s', '  poll: 200ms', '  backoff: 200ms', '  maxbackoff: 1s',
      '  endpoints:', '    - name: dest', `      url: ${counting.url}`,
      '  policies:',
      // Slow on purpose (1 MiB/s over ~5 MiB), so the kill lands in the middle of the run.
      '    - name: all', '      direction: push', '      endpoint: dest', '      repositories: ["big/*"]', '      trigger: {schedule: "0 0 1 1 *"}',
      '      concurrency: 2', '      bandwidth: 1MiB/s',
      '    - name: ev', '      direction: push', '      endpoint: dest', '      repositories: ["ev/*"]', '      trigger: {event: true}', '',
    ].join('\n'));
    src = await source(config, port);
  });
  after(async () => {
    if (src) await stopChild(src.child, 'SIGKILL');
    await counting?.close();
    await dest?.close();
    await removeDir(work);
  });

  it('resumes after restart and leaves the destination byte-exact, nothing finished twice, each job once', async () => {
    const shared = randomBlob(1024 * 1024);
    const images: Array<{ repo: string; m: Manifest; blobs: Blob[] }> = [];
    for (let i = 0; i < 6; i++) {
      const c = blob(`{"image":${i}}`);
      const layers = [shared, randomBlob(640 * 1024)];
      const m = imageManifest(c, layers);
      const repo = `big/app-${i}`;
      for (const b of [c, ...layers]) await pushBlob(src!.url, repo, b);
      assert.equal((await pushManifest(src!.url, repo, 'v1', m)).status, 201);
      images.push({ repo, m, blobs: [c, ...layers] });
    }
    const cli = (...args: string[]) => run(process.execPath, [BERTH_BIN, 'replication', ...args, '--config', config, '--json'], { env: cleanEnv() });
    await cli('run', 'all');
    const sent = () => counting.seen.filter((r) => r.method === 'PUT' && r.status === 201 && /\/blobs\/uploads\//.test(r.path)).length;
    await eventually('the first blobs sent', async () => (sent() >= 2 ? true : undefined));
    // An event queued just before the crash must be replicated once, not lost and not twice.
    const ec = blob('{"event":1}');
    const em = imageManifest(ec, []);
    await pushBlob(src!.url, 'ev/one', ec);
    assert.equal((await pushManifest(src!.url, 'ev/one', 'v1', em)).status, 201);
    await stopChild(src!.child, 'SIGKILL');
    const allThere = async () => {
      for (const img of images) if ((await digestAt(dest.url, img.repo, 'v1')) !== img.m.digest) return undefined;
      return true;
    };
    assert.equal(await allThere(), undefined, 'the kill came after the run had finished: the test proves nothing');

    src = await source(config, port);
    await eventually('every image at the destination', allThere, 90_000);
    assert.equal(await eventually('ev/one:v1 at the destination', () => digestAt(dest.url, 'ev/one', 'v1'), 30_000), em.digest);

    // Byte-exact: every manifest and every blob, read back from the destination.
    for (const img of [...images, { repo: 'ev/one', m: em, blobs: [ec] }]) {
      const res = await fetch(`${dest.url}/v2/${img.repo}/manifests/${img.m.digest}`, { headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } });
      assert.equal(res.status, 200);
      assert.equal(Buffer.from(await res.arrayBuffer()).equals(img.m.body), true, `${img.repo} manifest bytes`);
      for (const b of img.blobs) {
        const r = await fetch(`${dest.url}/v2/${img.repo}/blobs/${b.digest}`);
        assert.equal(r.status, 200, `${img.repo} ${b.digest}`);
        assert.equal(Buffer.from(await r.arrayBuffer()).equals(b.data), true, `${img.repo} ${b.digest} bytes`);
      }
    }
    // No blob finished twice in one repository (a cut upload may be sent again; a finished one not).
    const completed = new Map<string, number>();
    for (const r of counting.seen) {
      if (r.method !== 'PUT' || r.status !== 201 || !/\/blobs\/uploads\//.test(r.path)) continue;
      const key = `${r.path.split('/blobs/')[0]} ${new URL(r.path, 'http://x').searchParams.get('digest')}`;
      completed.set(key, (completed.get(key) ?? 0) + 1);
    }
    assert.deepEqual([...completed].filter(([, n]) => n > 1), [], 'a blob was sent twice');
    assert.equal(counting.count('PUT', /\/v2\/ev\/one\/manifests\/v1$/), 1, 'the event image was put once');
    for (const img of images) assert.equal(counting.count('PUT', new RegExp(`/v2/${img.repo}/manifests/v1$`)), 1, `${img.repo} put once`);

    // The history: the run and the event job each once, both done.
    const history = await eventually('both jobs done', async () => {
      const jobs = JSON.parse((await cli('history')).stdout) as Array<{ policy: string; kind: string; state: string; repository: string | null }>;
      const mine = jobs.filter((j) => j.policy === 'all' || j.policy === 'ev');
      return mine.every((j) => j.state === 'done') ? mine : undefined;
    }, 30_000);
    assert.deepEqual(history.map((j) => `${j.policy} ${j.kind} ${j.state}`).sort(), ['all run done', 'ev tag done']);
  });
});
