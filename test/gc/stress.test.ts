// Online GC under load: clients keep pushing new images (some reusing layers of deleted images,
// some with slow chunked uploads) and pulling existing ones while a collector in another
// Registry instance over the same directory (as `berth gc` beside `berth serve`) runs in a loop
// with a short grace period and --delete-untagged. Afterwards every acknowledged image that
// was not deleted pulls and verifies, and the directory holds no blob older than the grace
// period that no manifest references.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { startTestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { collectGarbage, type GcReport } from '../../src/gc/collector.js';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { manifestRefs } from '../../src/gc/references.js';

/** Load until this much happened (or the cap: then the machine is too slow and the test says so). */
const ENOUGH = { acknowledged: 30, deleted: 6, gcRuns: 5 };
const CAP_MS = 120_000;
const GRACE_MS = 300;

interface Pushed {
  repo: string;
  tag: string;
  manifest: Manifest;
  blobs: Blob[];
}

const sha = (data: Buffer) => `sha256:${createHash('sha256').update(data).digest('hex')}`;

async function uploadBlob(base: string, repo: string, b: Blob, chunked: boolean): Promise<void> {
  const head = await fetch(`${base}/v2/${repo}/blobs/${b.digest}`, { method: 'HEAD' });
  if (head.status === 200) return; // what docker does: the registry has it, skip the upload
  const post = await fetch(`${base}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
  await post.arrayBuffer();
  let location = new URL(post.headers.get('location')!, base);
  if (chunked) {
    const half = b.data.length >> 1;
    const patch = await fetch(location, {
      method: 'PATCH', body: b.data.subarray(0, half),
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `0-${half - 1}` },
    });
    await patch.arrayBuffer();
    location = new URL(patch.headers.get('location')!, base);
    await sleep(GRACE_MS * 2); // a slow client: its upload outlives the grace period
    location.searchParams.set('digest', b.digest);
    const put = await fetch(location, { method: 'PUT', body: b.data.subarray(half), headers: { 'Content-Type': 'application/octet-stream' } });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`chunked upload: ${put.status}`);
    return;
  }
  location.searchParams.set('digest', b.digest);
  const put = await fetch(location, { method: 'PUT', body: b.data, headers: { 'Content-Type': 'application/octet-stream' } });
  await put.arrayBuffer();
  if (put.status !== 201) throw new Error(`upload: ${put.status}`);
}

async function pull(base: string, p: Pushed): Promise<void> {
  const res = await fetch(`${base}/v2/${p.repo}/manifests/${p.tag}`, { headers: { Accept: p.manifest.mediaType } });
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `pull ${p.repo}:${p.tag}`);
  assert.equal(sha(body), p.manifest.digest, `manifest of ${p.repo}:${p.tag}`);
  for (const b of p.blobs) {
    const r = await fetch(`${base}/v2/${p.repo}/blobs/${b.digest}`);
    const data = Buffer.from(await r.arrayBuffer());
    assert.equal(r.status, 200, `blob ${b.digest} of ${p.repo}:${p.tag}`);
    assert.equal(sha(data), b.digest);
  }
}

async function walkFiles(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true }).catch(() => [])) {
    const full = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...await walkFiles(full));
    else out.push(full);
  }
  return out;
}

/** Independently of src/gc: every blob file, and every digest some stored revision references. */
async function unreferencedOldBlobs(root: string, cutoff: number): Promise<string[]> {
  const v2 = join(root, 'docker/registry/v2');
  const referenced = new Set<string>();
  for (const file of await walkFiles(join(v2, 'repositories'))) {
    const m = /\/_manifests\/revisions\/sha256\/([0-9a-f]{64})\/link$/.exec(file);
    if (!m) continue;
    const digest = `sha256:${m[1]}`;
    referenced.add(digest);
    const content = await readFile(join(v2, 'blobs/sha256', m[1]!.slice(0, 2), m[1]!, 'data')).catch(() => undefined);
    if (!content) continue;
    const refs = manifestRefs(content);
    for (const d of [...refs.blobs, ...refs.children]) referenced.add(d);
  }
  const out: string[] = [];
  for (const file of await walkFiles(join(v2, 'blobs'))) {
    const m = /\/([0-9a-f]{64})\/data$/.exec(file);
    if (!m || referenced.has(`sha256:${m[1]}`)) continue;
    if ((await stat(file)).mtimeMs <= cutoff) out.push(`sha256:${m[1]}`);
  }
  return out;
}

describe('online garbage collection under load', () => {
  it('loses no acknowledged image and leaves no old unreferenced blob', async () => {
    const server = await startTestRegistry({ storage: 'filesystem' });
    const collector = new Registry(new FilesystemDriver(server.root!));
    const acknowledged: Pushed[] = [];
    const deleted: Pushed[] = [];
    const refused: string[] = [];
    const reports: GcReport[] = [];
    let stopAt = Date.now() + CAP_MS;
    let n = 0;
    try {
      const pusher = async (id: number) => {
        while (Date.now() < stopAt) {
          const i = n++;
          const repo = `stress/p${id}`;
          const config = blob(`{"image":${i},"salt":"${randomBytes(4).toString('hex')}"}`);
          // Reuse a layer of a deleted image now and then: the content the GC is busy removing.
          const old = deleted[Math.floor(Math.random() * deleted.length)];
          const reused = old && i % 3 === 0 ? old.blobs.slice(1, 2) : [];
          const layers = [...reused, blob(randomBytes(2048 + (i % 7) * 512))];
          const m = imageManifest(config, layers);
          try {
            for (const b of [config, ...layers]) await uploadBlob(server.url, repo, b, id === 0 && i % 4 === 0);
            const res = await fetch(`${server.url}/v2/${repo}/manifests/t${i}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
            const text = await res.text();
            if (res.status === 201) acknowledged.push({ repo, tag: `t${i}`, manifest: m, blobs: [config, ...layers] });
            else refused.push(`${res.status} ${text}`);
          } catch (err) {
            refused.push(String(err));
          }
        }
      };
      const deleter = async () => {
        while (Date.now() < stopAt) {
          await sleep(150);
          const victim = acknowledged.find((p, k) => k % 2 === 1 && !deleted.includes(p));
          if (!victim) continue;
          deleted.push(victim);
          const res = await fetch(`${server.url}/v2/${victim.repo}/manifests/${victim.tag}`, { method: 'DELETE' });
          assert.equal(res.status, 202);
        }
      };
      const puller = async () => {
        while (Date.now() < stopAt) {
          const kept = acknowledged.filter((_, k) => k % 2 === 0);
          const p = kept[Math.floor(Math.random() * kept.length)];
          if (!p) {
            await sleep(20);
            continue;
          }
          await pull(server.url, p).catch((err: unknown) => {
            stopAt = 0; // stop the others: the test has failed
            throw err;
          });
        }
      };
      const gcLoop = async () => {
        while (Date.now() < stopAt) {
          reports.push(await collectGarbage(collector, { graceMs: GRACE_MS, deleteUntagged: true }));
          const enough = acknowledged.length >= ENOUGH.acknowledged && deleted.length >= ENOUGH.deleted
            && reports.length >= ENOUGH.gcRuns;
          if (enough) stopAt = 0;
          await sleep(50);
        }
      };
      // Every loop runs to the end even when one fails, so that nothing writes during cleanup.
      const loops = await Promise.allSettled([pusher(0), pusher(1), pusher(2), deleter(), puller(), puller(), gcLoop()]);
      for (const l of loops) if (l.status === 'rejected') throw l.reason;

      const live = acknowledged.filter((p) => !deleted.includes(p));
      for (const p of live) await pull(server.url, p);
      await sleep(GRACE_MS + 50);
      const final = await collectGarbage(collector, { graceMs: GRACE_MS, deleteUntagged: true });
      assert.deepEqual(await unreferencedOldBlobs(server.root!, Date.now() - GRACE_MS), []);
      for (const p of live) await pull(server.url, p);

      const swept = reports.reduce((s, r) => s + r.blobs.length, 0) + final.blobs.length;
      assert.ok(reports.length >= ENOUGH.gcRuns && acknowledged.length >= ENOUGH.acknowledged && deleted.length >= ENOUGH.deleted,
        `too slow a machine: in ${CAP_MS} ms, ${reports.length} GC runs, ${acknowledged.length} pushes, ${deleted.length} deletes`);
      assert.ok(swept > 0, 'the collector reclaimed the deleted images');
      // Refusals are allowed (a push that skipped uploading a layer the sweep was removing fails
      // cleanly with MANIFEST_BLOB_UNKNOWN and is not acknowledged), but only those.
      assert.ok(refused.every((r) => /MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN/.test(r)), refused.join('\n'));
      assert.ok(refused.length <= acknowledged.length / 2, `${refused.length} refused of ${n}`);
      process.stderr.write(`# stress: ${n} pushes, ${acknowledged.length} acknowledged, ${refused.length} refused, `
        + `${deleted.length} deleted, ${reports.length + 1} GC runs, ${swept} blobs swept, `
        + `${reports.reduce((s, r) => s + r.restored.length, 0)} restored after rescan\n`);
    } finally {
      await server.close();
    }
  });
});
