// The read API's deletion preview and storage total, checked against what the garbage collector
// then really frees: delete the manifests through /v2/, run a collection (grace 0) and compare
// its freed bytes with the preview's, with and without --delete-untagged for an index whose
// untagged child and signature stay behind.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { EMPTY_CONFIG, artifact, blob, imageManifest, indexManifest, type Blob, type Manifest } from '../support/oci-fixtures.js';
import { assertError, getJson, push, read } from './read-support.js';

interface Preview { repository: string; manifests: string[]; totalBytes: number; freedBytes: number; untagged: { manifests: string[]; totalBytes: number; freedBytes: number } }

describe('read API: deletion preview and storage total', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  const shared = blob(Buffer.alloc(3000, 1));
  const crossRepo = blob(Buffer.alloc(5000, 2));
  const own = blob(Buffer.alloc(700, 3));
  const configs = [0, 1, 2, 3].map((i) => blob(JSON.stringify({ os: 'linux', architecture: 'amd64', i })));
  const v1 = imageManifest(configs[0]!, [shared, crossRepo]);
  const v2 = imageManifest(configs[1]!, [shared]);
  const db = imageManifest(configs[2]!, [crossRepo]);
  const child = imageManifest(configs[3]!, [own]);
  const index = indexManifest([child, v2]);
  const sigLayer = blob('signature payload');
  const signature = artifact(index, 'application/vnd.dev.cosign.artifact.sig.v1+json', sigLayer);
  const size = (...things: Array<Blob | Manifest>) => things.reduce((n, t) => n + ('size' in t ? t.size : t.body.length), 0);

  before(async () => {
    reg = await startAuthRegistry('basic');
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await push(reg.url, 'team/app', 'v1', v1, [configs[0]!, shared, crossRepo], root), 201);
    assert.equal(await push(reg.url, 'team/app', 'v2', v2, [configs[1]!, shared], root), 201);
    assert.equal(await push(reg.url, 'team/db', 'v1', db, [configs[2]!, crossRepo], root), 201);
    assert.equal(await push(reg.url, 'team/app', child.digest, child, [configs[3]!, own], root), 201);
    assert.equal(await push(reg.url, 'team/app', 'multi', index, [], root), 201);
    assert.equal(await push(reg.url, 'team/app', signature.digest, signature, [EMPTY_CONFIG, sigLayer], root), 201);
  });
  after(async () => reg?.close());

  const preview = (digests: string[], who = root) => read<Preview>(`${reg.url}/api/v1/repositories/team/app/-/deletion?digests=${digests.join(',')}`, 'DeletionPreview', who);

  async function gc(dryRun: boolean, deleteUntagged = false): Promise<number> {
    const res = await fetch(`${reg.url}/api/v1/gc`, { method: 'POST', headers: { Authorization: root, 'Content-Type': 'application/json' }, body: JSON.stringify({ dryRun, deleteUntagged, grace: '0s' }) });
    const body = await res.json() as { bytes: number };
    assert.equal(res.status, 200, JSON.stringify(body));
    return body.bytes;
  }

  async function remove(digest: string): Promise<void> {
    const res = await fetch(`${reg.url}/v2/team/app/manifests/${digest}`, { method: 'DELETE', headers: { Authorization: root } });
    assert.equal(res.status, 202);
  }

  it('counts every referenced blob once in the registry total (administrators only)', async () => {
    const total = await read<{ totalBytes: number; blobs: number; projects: number; repositories: number }>(`${reg.url}/api/v1/usage`, 'StorageTotal', root);
    const all = [shared, crossRepo, own, sigLayer, EMPTY_CONFIG, ...configs, v1, v2, db, child, index, signature];
    assert.equal(total.totalBytes, size(...all));
    assert.equal(total.blobs, new Set(all.map((t) => t.digest)).size);
    assert.deepEqual([total.projects, total.repositories], [1, 2]);
    assertError(await getJson(`${reg.url}/api/v1/usage`, basic('bob', PASSWORD)), 403, 'DENIED');
  });

  it('previews one image: blobs another tag or repository uses stay', async () => {
    const p = await preview([v1.digest], basic('gus', PASSWORD));
    assert.equal(p.totalBytes, size(v1, configs[0]!, shared, crossRepo));
    assert.equal(p.freedBytes, size(v1, configs[0]!), 'shared is v2\'s too, crossRepo team/db\'s');
    assert.deepEqual(p.untagged, { manifests: [], totalBytes: p.totalBytes, freedBytes: p.freedBytes });
    const both = await preview([v1.digest, v2.digest]);
    assert.equal(both.freedBytes, size(v1, configs[0]!, configs[1]!, shared), 'v2\'s own bytes stay: the index lists it as a child');
  });

  it('refuses what it cannot answer', async () => {
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app/-/deletion?digests=${db.digest}`, root), 404, 'MANIFEST_UNKNOWN');
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app/-/deletion?digests=sha256:nope`, root), 400, 'DIGEST_INVALID');
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app/-/deletion`, root), 400, 'INVALID');
    assertError(await getJson(`${reg.url}/api/v1/repositories/team/app/-/deletion?digests=${v1.digest}`, basic('olga', PASSWORD)), 403, 'DENIED');
  });

  it('frees what it previewed once the collector runs', async () => {
    const p = await preview([v1.digest]);
    await remove(v1.digest);
    assert.equal(await gc(true), p.freedBytes);
    assert.equal(await gc(false), p.freedBytes);
  });

  it('previews an index with its untagged child and signature, as the collector frees them with and without --delete-untagged', async () => {
    const p = await preview([index.digest]);
    assert.equal(p.freedBytes, 0, 'the signature stays without --delete-untagged, and keeps its subject\'s bytes');
    assert.deepEqual(p.untagged.manifests, [child.digest, signature.digest].sort(), 'v2 is tagged: it stays');
    assert.equal(p.untagged.freedBytes, size(index, child, configs[3]!, own, signature, EMPTY_CONFIG, sigLayer));
    await remove(index.digest);
    assert.equal(await gc(true), p.freedBytes);
    assert.equal(await gc(true, true), p.untagged.freedBytes);
  });
});
