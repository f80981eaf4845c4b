// The listing-index contract: after every operation that changes what a registry lists (pushes,
// retags, deletes, referrers, upload-only blobs, a GC run, `berth index rebuild`, and the
// pull-through cache filling by tag and by digest), what Berth answers for the catalog, tag
// lists and referrers equals a walk of the same storage (the core's StorageListing). It runs on
// the walk itself, on SQLite and on a real PostgreSQL: a server whose index misses one write
// path fails here, whichever feature owns that path.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { StorageListing } from '../../src/registry/storage-listing.js';
import { FilesystemDriver } from '../../src/storage/drivers/filesystem/index.js';
import { tryParseDigest, type Digest } from '../../src/oci/digest.js';
import { join } from 'node:path';
import { IN_CI, removeDir, tempDir } from '../e2e/support/env.js';
import { artifact, blob, EMPTY_CONFIG, imageManifest, type Manifest } from '../support/oci-fixtures.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { pushBlob, pushImage, pushManifest } from '../support/push.js';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { upstream } from '../proxy/support.js';
import { runBerth } from '../support/cli.js';

export interface ListingBackend {
  name: 'walk' | 'sqlite' | 'postgres';
  /** REGISTRY_* variables selecting it, for the server and for one-shot commands; `dir` is the test's own. */
  env(dir: string): Promise<Record<string, string>>;
}

export const LISTING_BACKENDS: ListingBackend[] = [
  { name: 'walk', env: async () => ({ REGISTRY_META_INDEX_ENABLED: 'false' }) },
  { name: 'sqlite', env: async (dir) => ({ REGISTRY_META_INDEX_ENABLED: 'true', REGISTRY_META_SQLITE_PATH: join(dir, 'meta.sqlite') }) },
  { name: 'postgres', env: async () => ({ REGISTRY_META_INDEX_ENABLED: 'true', REGISTRY_META_POSTGRES_URL: await freshPostgresDatabase() }) },
];

const config = blob('{"os":"linux","suite":"listing"}');
const layer = blob('listing suite layer');
const img = imageManifest(config, [layer]);
const other = imageManifest(config, [layer], { annotations: { v: '2' } });
const byDigest = imageManifest(config, [layer], { annotations: { v: 'digest-only' } });
const sbom = blob('{"sbom":"listing"}');
const ref = artifact(img, 'application/vnd.example.sbom', sbom);
const upConfig = blob('{"os":"linux","from":"upstream"}');
const upLayer = blob('upstream layer');
const upTagged = imageManifest(upConfig, [upLayer]);
const upDigest = imageManifest(upConfig, [upLayer], { annotations: { pulled: 'by digest' } });

const ACCEPT = 'application/vnd.oci.image.manifest.v1+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.v2+json';
const d = (s: string) => tryParseDigest(s) as Digest;

async function json<T>(res: Response): Promise<T | undefined> {
  if (res.status === 404) {
    await res.arrayBuffer();
    return undefined;
  }
  assert.equal(res.status, 200, `${res.url}: ${res.status}`);
  return await res.json() as T;
}

/** What the server lists (its index, or its walk) next to a fresh walk of the same storage. */
async function compare(server: TestRegistry, walk: StorageListing, subjects: Array<[string, Manifest]>, step: string): Promise<void> {
  const served = (await json<{ repositories: string[] }>(await fetch(`${server.url}/v2/_catalog?n=1000`)))?.repositories ?? [];
  const walked = (await walk.repositories({ n: 1000 })).items;
  assert.deepEqual(served, walked, `${step}: the catalog differs from storage`);
  for (const name of walked) {
    const tags = await json<{ tags: string[] | null }>(await fetch(`${server.url}/v2/${name}/tags/list?n=1000`));
    const walkedTags = (await walk.tags(name, { n: 1000 }))?.items;
    assert.deepEqual(tags?.tags ?? [], walkedTags ?? [], `${step}: tags of ${name} differ from storage`);
  }
  for (const [name, subject] of subjects) {
    const listed = await json<{ manifests: Array<{ digest: string }> }>(await fetch(`${server.url}/v2/${name}/referrers/${subject.digest}`));
    const servedRefs = (listed?.manifests ?? []).map((m) => m.digest).sort();
    const walkedRefs = (await walk.referrers(name, d(subject.digest))).map((x) => x.value).sort();
    assert.deepEqual(servedRefs, walkedRefs, `${step}: referrers of ${name}@${subject.digest} differ from storage`);
  }
}

async function ok(res: Promise<Response>, status: number, what: string): Promise<void> {
  const r = await res;
  const body = await r.text();
  assert.equal(r.status, status, `${what}: ${body}`);
}

export function listingIndexSuite(backend: ListingBackend): void {
  let up: TestRegistry | undefined;
  let server: TestRegistry | undefined;
  let env: Record<string, string> = {};
  let dir: string | undefined;
  let walk: StorageListing;
  const subjects: Array<[string, Manifest]> = [['team/app', img], ['team/app', other]];
  const check = (step: string) => compare(server!, walk, subjects, step);

  before(async () => {
    up = await startTestRegistry();
    await pushImage(up.url, 'library/tagged', 'v1', upConfig, [upLayer], upTagged);
    await pushImage(up.url, 'library/digested', upDigest.digest, upConfig, [upLayer], upDigest);
    dir = await tempDir('listing-suite');
    const root = join(dir, 'storage');
    // The same variables for the server and for one-shot commands (gc, index rebuild).
    env = {
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_STORAGE_DELETE_ENABLED: 'true', REGISTRY_LOG_LEVEL: 'error',
      ...await backend.env(dir),
    };
    server = await startTestRegistry({ root, env, configure: (c) => { c.proxy = { ...c.proxy, upstreams: [upstream('hub', up!.url)] }; } });
    walk = new StorageListing(new FilesystemDriver(root));
  });
  after(async () => {
    await server?.close();
    await up?.close();
    await removeDir(dir);
  });

  it('a tagged push', async () => {
    await pushImage(server!.url, 'team/app', 'v1', config, [layer], img);
    await pushImage(server!.url, 'solo', 'latest', config, [layer], img);
    await check('push tagged');
  });

  it('a push by digest', async () => {
    await pushImage(server!.url, 'digest/only', byDigest.digest, config, [layer], byDigest);
    await pushManifest(server!.url, 'team/app', other.digest, other);
    await check('push by digest');
  });

  it('a retag', async () => {
    await pushManifest(server!.url, 'team/app', 'v2', img);
    await pushManifest(server!.url, 'team/app', 'v2', other);
    await check('retag');
  });

  it('a tag delete', async () => {
    await pushManifest(server!.url, 'team/app', 'gone', img);
    await ok(fetch(`${server!.url}/v2/team/app/manifests/gone`, { method: 'DELETE' }), 202, 'DELETE tag');
    await check('delete tag');
  });

  it('a referrer push', async () => {
    for (const b of [EMPTY_CONFIG, sbom]) await pushBlob(server!.url, 'team/app', b);
    await pushManifest(server!.url, 'team/app', ref.digest, ref);
    await check('push referrer');
  });

  it('an upload-only blob (a repository with no manifest)', async () => {
    await pushBlob(server!.url, 'blobs/only', blob('nothing but a blob'));
    await check('upload-only blob');
  });

  it('a manifest delete', async () => {
    await ok(fetch(`${server!.url}/v2/solo/manifests/${img.digest}`, { method: 'DELETE' }), 202, 'DELETE manifest');
    await check('delete manifest');
  });

  it('a GC run that deletes untagged manifests', async () => {
    await pushManifest(server!.url, 'team/app', 'temp', byDigest);
    await ok(fetch(`${server!.url}/v2/team/app/manifests/temp`, { method: 'DELETE' }), 202, 'DELETE tag');
    const gc = await runBerth(['gc', '--delete-untagged', '--grace', '0s'], env);
    assert.equal(gc.code, 0, gc.stderr);
    await check('gc');
  });

  it('berth index rebuild', async () => {
    if (backend.name === 'walk') return; // no index to rebuild: listings are the walk
    const r = await runBerth(['index', 'rebuild'], env);
    assert.equal(r.code, 0, r.stderr);
    await check('index rebuild');
  });

  it('a pull-through cache fill by tag', async () => {
    const res = await fetch(`${server!.url}/v2/hub/library/tagged/manifests/v1`, { headers: { accept: ACCEPT } });
    assert.equal(res.status, 200, await res.text());
    await check('pull-through by tag');
  });

  // Issue 16's bug 1: the cache once wrote its own links and skipped the index here.
  it('a pull-through cache fill by digest', async () => {
    const res = await fetch(`${server!.url}/v2/hub/library/digested/manifests/${upDigest.digest}`, { headers: { accept: ACCEPT } });
    assert.equal(res.status, 200, await res.text());
    await check('pull-through by digest');
  });
}

/** Runs the suite once per backend; a missing PostgreSQL fails under CI=true and skips elsewhere. */
export function forEachListingBackend(title: string): void {
  for (const backend of LISTING_BACKENDS) {
    const skip = backend.name === 'postgres' && !IN_CI && !postgresAvailable()
      ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false;
    describe(`${title} (${backend.name})`, { skip }, () => listingIndexSuite(backend));
  }
}
