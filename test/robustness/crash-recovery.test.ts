// `kill -9` of the real `berth serve` during 50 concurrent pushes (blobs in several chunks, then
// a manifest), then a restart on the same directory. Whatever a client saw acknowledged (2xx) is
// there and verifies; nothing partial is served; the tree holds no half-written blob and no link
// to a missing blob. Each round kills at another moment (after a different number of
// acknowledgements), so the kill lands in different phases of the pushes.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startBerth, type BerthProcess } from '../e2e/support/berth-process.js';
import { runBerth } from '../support/cli.js';
import { removeDir, tempDir } from '../e2e/support/env.js';
import { filesUnder, locationPath } from '../support/api-table.js';

const PUSHERS = 50;
const REPOS = 10;
/** Kill after this many acknowledgements (blobs and manifests, over all pushers), one round each. */
const KILL_AFTER = [3, 40, 120];
const V2 = 'docker/registry/v2';

const sha256 = (b: Buffer): string => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Acknowledged {
  blobs: { repo: string; digest: string }[];
  manifests: { repo: string; tag: string; digest: string; body: Buffer }[];
}

/** One client: pushes a few blobs in chunks and a manifest referring to them, until it fails. */
async function pushImage(url: string, repo: string, tag: string, acked: Acknowledged, onAck: () => void): Promise<void> {
  const layers: { digest: string; size: number }[] = [];
  const count = 1 + Math.floor(Math.random() * 3);
  for (let i = 0; i <= count; i++) {
    const data = randomBytes(16 * 1024 + Math.floor(Math.random() * 300 * 1024));
    const digest = sha256(data);
    const start = await fetch(`${url}/v2/${repo}/blobs/uploads/`, { method: 'POST' });
    await start.arrayBuffer();
    if (start.status !== 202) throw new Error(`POST ${start.status}`);
    let loc = locationPath(start.headers.get('location'));
    const chunk = 16 * 1024 + Math.floor(Math.random() * 48 * 1024);
    for (let at = 0; at < data.length; at += chunk) {
      const piece = data.subarray(at, at + chunk);
      const res = await fetch(`${url}${loc}`, {
        method: 'PATCH', body: piece,
        headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${at}-${at + piece.length - 1}` },
      });
      await res.arrayBuffer();
      if (res.status !== 202) throw new Error(`PATCH ${res.status}`);
      loc = locationPath(res.headers.get('location'));
    }
    const put = await fetch(`${url}${loc}${loc.includes('?') ? '&' : '?'}digest=${digest}`, { method: 'PUT' });
    await put.arrayBuffer();
    if (put.status !== 201) throw new Error(`PUT ${put.status}`);
    acked.blobs.push({ repo, digest });
    onAck();
    layers.push({ digest, size: data.length });
  }
  const [config, ...rest] = layers;
  const body = Buffer.from(JSON.stringify({
    schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', ...config },
    layers: rest.map((l) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', ...l })),
  }));
  const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
    method: 'PUT', body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`manifest PUT ${res.status}`);
  acked.manifests.push({ repo, tag, digest: sha256(body), body });
  onAck();
}

/** Every blob data file hashes to its path, and every link names a blob whose data exists. */
async function checkTree(root: string): Promise<{ blobs: number; links: number }> {
  const blobsDir = join(root, V2, 'blobs');
  const files = await filesUnder(blobsDir);
  let blobs = 0;
  for (const file of files) {
    if (file.includes('.berth-tmp-')) continue;
    const m = /^sha256\/([0-9a-f]{2})\/([0-9a-f]{64})\/data$/.exec(file);
    assert.ok(m && m[2]!.startsWith(m[1]!), `unexpected file under blobs/: ${file}`);
    const content = await readFile(join(blobsDir, file));
    assert.equal(sha256(content), `sha256:${m[2]}`, `blobs/${file} does not hash to its name (half-written?)`);
    blobs++;
  }
  const repos = join(root, V2, 'repositories');
  let links = 0;
  const repoFiles = await filesUnder(repos);
  const present = new Set(repoFiles);
  for (const file of repoFiles) {
    const tag = /^(.+\/_manifests\/tags\/[^/]+)\/index\//.exec(file);
    assert.ok(!tag || present.has(`${tag[1]}/current/link`), `${tag?.[1]} is listed (has an index entry) but has no current link`);
  }
  for (const file of repoFiles) {
    if (!file.endsWith('/link') || file.includes('/_uploads/')) continue;
    const target = (await readFile(join(repos, file), 'utf8')).trim();
    const m = /^sha256:([0-9a-f]{64})$/.exec(target);
    assert.ok(m, `${file} holds no digest: ${JSON.stringify(target)}`);
    const data = join('sha256', m[1]!.slice(0, 2), m[1]!, 'data');
    assert.ok(files.includes(data), `${file} links to ${target}, whose data is missing`);
    links++;
  }
  return { blobs, links };
}

async function getVerified(url: string, path: string, digest: string): Promise<Buffer> {
  const res = await fetch(`${url}${path}`);
  const body = Buffer.from(await res.arrayBuffer());
  assert.equal(res.status, 200, `GET ${path}`);
  assert.equal(sha256(body), digest, `GET ${path} serves bytes of another digest`);
  return body;
}

describe('kill -9 during 50 concurrent pushes, then a restart on the same directory', () => {
  let work: string | undefined;
  let berth: BerthProcess | undefined;
  before(async () => { work = await tempDir('crash'); });
  after(async () => {
    await berth?.stop('SIGKILL');
    await removeDir(work);
  });

  KILL_AFTER.forEach((killAfter, round) => {
    it(`round ${round + 1}: killed after ${killAfter} acknowledgements`, { timeout: 180_000 }, async (t) => {
      const root = join(work!, 'storage');
      berth = await startBerth({ root });
      const acked: Acknowledged = { blobs: [], manifests: [] };
      let count = 0;
      let killed: Promise<void> | undefined;
      const server = berth;
      const onAck = (): void => {
        count++;
        if (count >= killAfter && !killed) killed = server.stop('SIGKILL');
      };
      const results = await Promise.allSettled(Array.from({ length: PUSHERS }, (_, i) => (
        pushImage(server.url, `crash/r${i % REPOS}`, `round${round}-p${i}`, acked, onAck)
      )));
      if (!killed) killed = server.stop('SIGKILL');
      await killed;
      const failed = results.filter((r) => r.status === 'rejected').length;
      t.diagnostic(`acknowledged ${acked.blobs.length} blobs and ${acked.manifests.length} manifests; ${failed} of ${PUSHERS} pushes cut by the kill`);
      assert.ok(failed > 0, 'the kill interrupted some pushes (otherwise this round tests nothing)');

      berth = await startBerth({ root });
      const url = berth.url;
      for (const { repo, digest } of acked.blobs) await getVerified(url, `/v2/${repo}/blobs/${digest}`, digest);
      for (const m of acked.manifests) {
        const body = await getVerified(url, `/v2/${m.repo}/manifests/${m.digest}`, m.digest);
        assert.deepEqual(body, m.body);
        const byTag = await fetch(`${url}/v2/${m.repo}/manifests/${m.tag}`, { method: 'HEAD' });
        assert.equal(byTag.status, 200, `tag ${m.repo}:${m.tag}`);
        assert.equal(byTag.headers.get('docker-content-digest'), m.digest);
      }

      // Nothing partial is served: every manifest any repository lists resolves, and every
      // blob it references answers 200 with the right bytes.
      const catalog = await fetch(`${url}/v2/_catalog?n=1000`);
      const { repositories } = await catalog.json() as { repositories: string[] };
      let served = 0;
      for (const repo of repositories) {
        const list = await fetch(`${url}/v2/${repo}/tags/list`);
        const { tags } = await list.json() as { tags: string[] | null };
        for (const tag of tags ?? []) {
          const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, { headers: { Accept: 'application/vnd.oci.image.manifest.v1+json' } });
          const body = Buffer.from(await res.arrayBuffer());
          assert.equal(res.status, 200, `listed tag ${repo}:${tag}`);
          assert.equal(res.headers.get('docker-content-digest'), sha256(body));
          const doc = JSON.parse(body.toString()) as { config: { digest: string }; layers: { digest: string }[] };
          for (const { digest } of [doc.config, ...doc.layers]) {
            await getVerified(url, `/v2/${repo}/blobs/${digest}`, digest);
            served++;
          }
        }
      }
      const tree = await checkTree(root);
      // The listing index (written after storage) was repaired at start from the intents the kill left.
      const verify = await runBerth(['index', 'verify'], { REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root });
      assert.equal(verify.code, 0, `berth index verify after the restart:\n${verify.stdout}${verify.stderr}`);
      t.diagnostic(`after restart: ${repositories.length} repositories, ${served} referenced blobs verified; tree holds ${tree.blobs} blobs and ${tree.links} links, all consistent`);

      // The restarted server takes new pushes into the same tree.
      await pushImage(url, 'crash/after', `round${round}`, acked, () => undefined);
      await berth.stop();
      berth = undefined;
    });
  });
});
