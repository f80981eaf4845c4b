// Online GC under load: clients keep pushing new images (some reusing layers of deleted images,
// some with slow chunked uploads), pulling existing ones and deleting tags while a collector
// works with a short grace period. Two collectors: the walking one in another Registry instance
// over the same directory (as `berth gc --delete-untagged` beside `berth serve`), and the review
// workers over the metadata database inside `berth serve` (gc.review, gc.untagged: delete): on
// SQLite one server and its worker, on PostgreSQL two replicas sharing the directory and the
// database, each with its worker, taking the load between them. Afterwards every acknowledged
// image that was not deleted pulls and verifies, the deleted ones are gone from the directory,
// and it holds no blob older than the grace period that no manifest references (with the review
// workers: nor a revision of no acknowledged image, such as a refused push's).
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
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI } from '../e2e/support/env.js';
import type { TestRegistry } from '../support/registry-server.js';
import type { ConfigInput } from '../../src/config/schema.js';

/** Load until this much happened (or the cap: then the machine is too slow and the test says so). */
const ENOUGH = { acknowledged: 30, deleted: 6, gcRuns: 5 };
const CAP_MS = 120_000;
const GRACE_MS = 300;
/** The review workers' grace (gc.review.grace): a deleted image's content waits this long. */
const REVIEW_GRACE_MS = 250;
/** gc.review.upload: an uploaded blob waits this long for its manifest (a chunked push here takes over 600 ms). */
const UPLOAD_GRACE_MS = 3000;
/** The review variants run longer: more deleted images to collect while layers of them are pushed again. */
const ENOUGH_REVIEW = { acknowledged: 50, deleted: 12, collected: 8 };

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
    // A worker may delete it between the walk and this look.
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs <= cutoff) out.push(`sha256:${m[1]}`);
  }
  return out;
}

/** Stored revisions (`repo@digest`) older than `cutoff` that are not in `live`: a refused push's, say. */
async function strayRevisions(root: string, live: Set<string>, cutoff: number): Promise<string[]> {
  const repositories = join(root, 'docker/registry/v2/repositories');
  const out: string[] = [];
  for (const file of await walkFiles(repositories)) {
    const m = /^(.+)\/_manifests\/revisions\/sha256\/([0-9a-f]{64})\/link$/.exec(file.slice(repositories.length + 1));
    if (!m || live.has(`${m[1]}@sha256:${m[2]}`)) continue;
    const info = await stat(file).catch(() => undefined);
    if (info && info.mtimeMs <= cutoff) out.push(`${m[1]}@sha256:${m[2]}`);
  }
  return out;
}

interface Load {
  acknowledged: Pushed[];
  deleted: Pushed[];
  refused: string[];
  pushes: number;
  /** Acknowledged pushes that reused a layer of a deleted image. */
  reused: number;
}

/**
 * Three pushers, two pullers and a tag deleter against `bases` (spread over them) until `done()`
 * says enough happened or the cap passes; the first failed pull stops everything and throws.
 */
async function runLoad(bases: string[], done: (load: Load) => Promise<boolean>, tick: (load: Load) => Promise<void>): Promise<Load> {
  const load: Load = { acknowledged: [], deleted: [], refused: [], pushes: 0, reused: 0 };
  const { acknowledged, deleted, refused } = load;
  const base = (k: number) => bases[k % bases.length]!;
  let stopAt = Date.now() + CAP_MS;
  const pusher = async (id: number) => {
    while (Date.now() < stopAt) {
      const i = load.pushes++;
      const repo = `stress/p${id}`;
      const url = base(i);
      const config = blob(`{"image":${i},"salt":"${randomBytes(4).toString('hex')}"}`);
      // Reuse a layer of a deleted image now and then: the content the GC is busy removing.
      const old = deleted[Math.floor(Math.random() * deleted.length)];
      const reused = old && i % 3 === 0 ? old.blobs.slice(1, 2) : [];
      const layers = [...reused, blob(randomBytes(2048 + (i % 7) * 512))];
      const m = imageManifest(config, layers);
      try {
        for (const b of [config, ...layers]) await uploadBlob(url, repo, b, id === 0 && i % 4 === 0);
        const res = await fetch(`${url}/v2/${repo}/manifests/t${i}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
        const text = await res.text();
        if (res.status === 201) {
          acknowledged.push({ repo, tag: `t${i}`, manifest: m, blobs: [config, ...layers] });
          if (reused.length > 0) load.reused++;
        } else refused.push(`${res.status} ${text}`);
      } catch (err) {
        refused.push(String(err));
      }
    }
  };
  const deleter = async () => {
    let k = 0;
    while (Date.now() < stopAt) {
      await sleep(150);
      const victim = acknowledged.find((p, j) => j % 2 === 1 && !deleted.includes(p));
      if (!victim) continue;
      deleted.push(victim);
      const res = await fetch(`${base(k++)}/v2/${victim.repo}/manifests/${victim.tag}`, { method: 'DELETE' });
      assert.equal(res.status, 202);
    }
  };
  const puller = async (id: number) => {
    let k = id;
    while (Date.now() < stopAt) {
      const kept = acknowledged.filter((_, j) => j % 2 === 0);
      const p = kept[Math.floor(Math.random() * kept.length)];
      if (!p) {
        await sleep(20);
        continue;
      }
      await pull(base(k++), p).catch((err: unknown) => {
        stopAt = 0; // stop the others: the test has failed
        throw err;
      });
    }
  };
  const watcher = async () => {
    while (Date.now() < stopAt) {
      await tick(load);
      if (await done(load)) stopAt = 0;
      await sleep(50);
    }
  };
  // Every loop runs to the end even when one fails, so that nothing writes during cleanup.
  const loops = await Promise.allSettled([pusher(0), pusher(1), pusher(2), deleter(), puller(0), puller(1), watcher()]);
  for (const l of loops) if (l.status === 'rejected') throw l.reason;
  return load;
}

/** Refusals are allowed (a push that skipped uploading a layer the collector was removing fails cleanly and is not acknowledged), but only those. */
function checkRefusals(load: Load): void {
  assert.ok(load.refused.every((r) => /MANIFEST_BLOB_UNKNOWN|BLOB_UNKNOWN/.test(r)), load.refused.join('\n'));
  assert.ok(load.refused.length <= load.acknowledged.length / 2, `${load.refused.length} refused of ${load.pushes}`);
}

const enoughLoad = (load: Load) => load.acknowledged.length >= ENOUGH.acknowledged && load.deleted.length >= ENOUGH.deleted;
const tooSlow = (load: Load, what: string) => `too slow a machine: in ${CAP_MS} ms, ${what}, ${load.acknowledged.length} pushes, ${load.deleted.length} deletes`;

/** Whether the revision of `p` is still in the directory (the manifest's link, Distribution's layout). */
async function revisionStored(root: string, p: Pushed): Promise<boolean> {
  const hex = p.manifest.digest.slice('sha256:'.length);
  return stat(join(root, 'docker/registry/v2/repositories', p.repo, '_manifests/revisions/sha256', hex, 'link')).then(() => true, () => false);
}

describe('online garbage collection under load', () => {
  it('walking collector: loses no acknowledged image and leaves no old unreferenced blob', async () => {
    const server = await startTestRegistry({ storage: 'filesystem' });
    const collector = new Registry(new FilesystemDriver(server.root!));
    const reports: GcReport[] = [];
    try {
      const load = await runLoad([server.url], async (l) => enoughLoad(l) && reports.length >= ENOUGH.gcRuns,
        async () => { reports.push(await collectGarbage(collector, { graceMs: GRACE_MS, deleteUntagged: true })); });
      const live = load.acknowledged.filter((p) => !load.deleted.includes(p));
      for (const p of live) await pull(server.url, p);
      await sleep(GRACE_MS + 50);
      const final = await collectGarbage(collector, { graceMs: GRACE_MS, deleteUntagged: true });
      assert.deepEqual(await unreferencedOldBlobs(server.root!, Date.now() - GRACE_MS), []);
      for (const p of live) await pull(server.url, p);

      const swept = reports.reduce((s, r) => s + r.blobs.length, 0) + final.blobs.length;
      assert.ok(reports.length >= ENOUGH.gcRuns && enoughLoad(load), tooSlow(load, `${reports.length} GC runs`));
      assert.ok(swept > 0, 'the collector reclaimed the deleted images');
      checkRefusals(load);
      process.stderr.write(`# stress (walk): ${load.pushes} pushes, ${load.acknowledged.length} acknowledged, ${load.refused.length} refused, `
        + `${load.reused} reused a deleted image's layer, ${load.deleted.length} deleted, ${reports.length + 1} GC runs, ${swept} blobs swept, `
        + `${reports.reduce((s, r) => s + r.restored.length, 0)} restored after rescan\n`);
    } finally {
      await server.close();
    }
  });

  const pgSkip = !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;
  for (const backend of ['sqlite', 'postgres'] as const) {
    it(`review workers on ${backend}: lose no acknowledged image, collect every deleted one`, { skip: backend === 'postgres' && pgSkip }, async () => {
      const url = backend === 'postgres' ? await freshPostgresDatabase() : undefined;
      const configure = (c: ConfigInput) => {
        c.gc.review = { grace: `${REVIEW_GRACE_MS}ms`, interval: '100ms', lease: '10m', upload: `${UPLOAD_GRACE_MS}ms` };
        c.gc.untagged = 'delete';
        c.gc.tagrestore = '0';
        if (url) c.meta.postgres = { url };
      };
      const first = await startTestRegistry({ storage: 'filesystem', configure });
      const servers: TestRegistry[] = [first];
      try {
        // PostgreSQL: a second replica on the same directory and database, with its own worker.
        if (url) servers.push(await startTestRegistry({ root: first.root!, configure }));
        const root = first.root!;
        const bases = servers.map((s) => s.url);
        let collected = 0;
        const enoughReview = (l: Load) => l.acknowledged.length >= ENOUGH_REVIEW.acknowledged && l.deleted.length >= ENOUGH_REVIEW.deleted && collected >= ENOUGH_REVIEW.collected;
        const load = await runLoad(bases, async (l) => enoughReview(l), async (l) => {
          let gone = 0;
          for (const p of l.deleted) if (!(await revisionStored(root, p))) gone++;
          collected = gone;
        });
        const live = load.acknowledged.filter((p) => !load.deleted.includes(p));
        for (const [k, p] of live.entries()) await pull(bases[k % bases.length]!, p);
        // The workers finish what is due: every deleted image leaves, no old unreferenced blob stays.
        const deadline = Date.now() + 20_000;
        let stored: Pushed[] = [];
        let orphans: string[] = [];
        let strays: string[] = [];
        const liveRevisions = new Set(live.map((p) => `${p.repo}@${p.manifest.digest}`));
        do {
          await sleep(200);
          stored = [];
          for (const p of load.deleted) if (await revisionStored(root, p)) stored.push(p);
          orphans = await unreferencedOldBlobs(root, Date.now() - UPLOAD_GRACE_MS - 1000);
          strays = await strayRevisions(root, liveRevisions, Date.now() - UPLOAD_GRACE_MS - 1000);
        } while ((stored.length > 0 || orphans.length > 0 || strays.length > 0) && Date.now() < deadline);
        assert.deepEqual(stored.map((p) => `${p.repo}:${p.tag}`), [], 'deleted images the workers left');
        // Blobs of refused pushes (uploaded, never named) included: their uploads queued review rows.
        assert.deepEqual(orphans, [], 'unreferenced blobs older than the upload grace the workers left');
        // A refused push's revision (stored before the PUT saw the mark) is queued when written, and untagged.
        assert.deepEqual(strays, [], 'revisions of no acknowledged image the workers left');
        for (const [k, p] of live.entries()) await pull(bases[(k + 1) % bases.length]!, p);
        assert.ok(enoughReview(load), tooSlow(load, `${collected} images collected`));
        checkRefusals(load);
        process.stderr.write(`# stress (review, ${backend}, ${servers.length} replica(s)): ${load.pushes} pushes, ${load.acknowledged.length} acknowledged, `
          + `${load.refused.length} refused, ${load.reused} reused a layer of a deleted image, ${load.deleted.length} deleted and collected\n`);
      } finally {
        for (const s of servers.reverse()) await s.close();
      }
    });
  }
});
