// The review's handshake with the push path across replicas, made deterministic: replica A is a
// running `berth serve` (its own worker off), replica B is a second Berth core over the same
// directory and PostgreSQL whose review worker is held right after it wrote its pending mark (the
// moment a PUT on another replica is most dangerous: B's in-process lock means nothing to A).
// A PUT on A naming the reviewed object then is refused (MANIFEST_BLOB_UNKNOWN, retry), B resumes
// and keeps the object, and the client's retry succeeds: nothing acknowledged loses content.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from '../../src/registry/registry.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { MetaListingIndex } from '../../src/meta/listing-index.js';
import { openMetaDatabase, type MetaDatabase } from '../../src/meta/database.js';
import { pendingReviews } from '../../src/meta/review-queue.js';
import { reviewOnce } from '../../src/gc/review-worker.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI } from '../e2e/support/env.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, randomBlob, type Manifest } from '../support/oci-fixtures.js';
import { pushBlobTwoStep, pushImageTwoStep } from './support/push.js';
import { hasBlob, d } from '../support/seed.js';

const GRACE = 3_600_000;
const skip = !IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;

interface Replicas { a: TestRegistry; b: Registry; metaB: MetaDatabase; close(): Promise<void> }

async function replicas(): Promise<Replicas> {
  const url = await freshPostgresDatabase();
  const a = await startTestRegistry({
    storage: 'filesystem',
    configure: (c) => {
      c.meta.postgres = { url };
      c.gc.untagged = 'delete';
      c.gc.tagrestore = '0';
      // A's own worker is off: B's is the one under test.
      c.gc.review = { grace: '1h', interval: '0', lease: '10m', upload: '1h' };
    },
  });
  const metaB = await openMetaDatabase({ postgres: { url } });
  const driver = new FilesystemDriver(a.root!);
  const b = new Registry(driver, { index: new MetaListingIndex(metaB, new StorageListing(driver)) });
  return { a, b, metaB, close: async () => { await metaB.close(); await a.close(); } };
}

/** Holds B's worker right after its first pending mark is written, until released. */
function holdAtMark(core: Registry): { marked: Promise<string>; release(): void } {
  let reached!: (digest: string) => void;
  let release!: () => void;
  const marked = new Promise<string>((r) => { reached = r; });
  const released = new Promise<void>((r) => { release = r; });
  const store = core.maintenance;
  const real = store.markPending.bind(store);
  let held = false;
  store.markPending = async (digest, expiresAt) => {
    await real(digest, expiresAt);
    if (held) return;
    held = true;
    reached(digest.value);
    await released;
  };
  return { marked, release };
}

/** A worker's clock one grace ahead of now: what is queued from here on (the refused PUT's own row) is not due in this pass. */
function dueNow(): () => number {
  const at = Date.now() + GRACE;
  return () => at;
}

async function put(base: string, repo: string, reference: string, m: Manifest): Promise<{ status: number; text: string }> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${reference}`, { method: 'PUT', body: m.body, headers: { 'Content-Type': m.mediaType } });
  return { status: res.status, text: await res.text() };
}

async function pulls(base: string, repo: string, tag: string, m: Manifest, digests: string[]): Promise<void> {
  const res = await fetch(`${base}/v2/${repo}/manifests/${tag}`, { headers: { Accept: m.mediaType } });
  assert.equal(res.status, 200, `${repo}:${tag}`);
  assert.equal(Buffer.from(await res.arrayBuffer()).equals(m.body), true);
  for (const digest of digests) {
    const r = await fetch(`${base}/v2/${repo}/blobs/${digest}`);
    await r.arrayBuffer();
    assert.equal(r.status, 200, `blob ${digest}`);
  }
}

describe('review worker on one replica against a PUT on another (PostgreSQL, shared directory)', { skip }, () => {
  it('an untagged manifest re-tagged on A while B holds its pending mark survives, and the retried PUT is acknowledged', async () => {
    const r = await replicas();
    try {
      const config = blob('{"replica":"manifest"}');
      const layer = randomBlob(2048);
      const m = imageManifest(config, [layer]);
      await pushImageTwoStep(r.a.url, 'team/app', 'v1', config, [layer], m);
      assert.equal((await fetch(`${r.a.url}/v2/team/app/manifests/v1`, { method: 'DELETE' })).status, 202);
      const hold = holdAtMark(r.b);
      const review = reviewOnce(r.metaB, r.b, { graceMs: GRACE, untagged: 'delete', now: dueNow() });
      assert.equal(await hold.marked, m.digest, 'B marked the untagged manifest');
      const during = await put(r.a.url, 'team/app', 'v2', m);
      assert.equal(during.status, 404, during.text);
      assert.match(during.text, /MANIFEST_BLOB_UNKNOWN/);
      hold.release();
      const report = await review;
      assert.deepEqual(report.manifests, [], 'B kept the manifest A wrote again');
      assert.equal(await r.b.manifests.exists('team/app', d(m.digest)), true);
      const retried = await put(r.a.url, 'team/app', 'v2', m);
      assert.equal(retried.status, 201, retried.text);
      await pulls(r.a.url, 'team/app', 'v2', m, [config.digest, layer.digest]);
    } finally {
      await r.close();
    }
  });

  it('uploaded blobs named by a PUT on A while B holds the pending mark of one of them survive', async () => {
    const r = await replicas();
    try {
      const config = blob('{"replica":"blob"}');
      const layer = randomBlob(2048);
      const m = imageManifest(config, [layer]);
      for (const b of [config, layer]) await pushBlobTwoStep(r.a.url, 'team/app', b);
      assert.equal(await pendingReviews(r.metaB), 2, 'each upload queued its review');
      const hold = holdAtMark(r.b);
      const review = reviewOnce(r.metaB, r.b, { graceMs: GRACE, untagged: 'delete', now: dueNow() });
      const marked = await hold.marked;
      assert.ok([config.digest, layer.digest].includes(marked), marked);
      const during = await put(r.a.url, 'team/app', 'v1', m);
      assert.equal(during.status, 404, during.text);
      assert.match(during.text, /MANIFEST_BLOB_UNKNOWN/);
      hold.release();
      const report = await review;
      assert.deepEqual(report.blobs, [], 'B deleted nothing: the PUT\'s references came before its re-check');
      for (const b of [config, layer]) {
        assert.equal(await hasBlob(r.b, b.digest), true);
        assert.equal(await r.b.blobs.isLinked('team/app', d(b.digest)), true);
      }
      const retried = await put(r.a.url, 'team/app', 'v1', m);
      assert.equal(retried.status, 201, retried.text);
      await pulls(r.a.url, 'team/app', 'v1', m, [config.digest, layer.digest]);
    } finally {
      await r.close();
    }
  });
});
