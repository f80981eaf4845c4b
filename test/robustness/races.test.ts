// Clients racing on the same objects: chunks for one session sent at once, two finishes of one
// session, a cancel against a chunk, manifests racing for one tag. Whatever the interleaving,
// no 5xx, each race has one consistent winner, and what is stored matches what was answered.
import { describe, it, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { blob, imageManifest, OCI_MANIFEST } from '../support/oci-fixtures.js';
import { pushBlob } from '../support/push.js';
import { errorBody, filesUnder, locationPath } from '../support/api-table.js';
import { join } from 'node:path';

const ROUNDS = 20;

interface Answer {
  status: number;
  headers: Headers;
  body: Buffer;
}

async function call(url: string, method: string, path: string, body?: Buffer, headers: Record<string, string> = {}): Promise<Answer> {
  const init: RequestInit = { method, headers };
  if (body) init.body = body;
  const res = await fetch(`${url}${path}`, init);
  const answer = { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  assert.ok(answer.status < 500, `${method} ${path} -> ${answer.status} ${answer.body.toString()}`);
  if (answer.status >= 400 && method !== 'HEAD') errorBody({ ...answer, method });
  return answer;
}

async function open(url: string, repo: string): Promise<string> {
  const res = await call(url, 'POST', `/v2/${repo}/blobs/uploads/`);
  assert.equal(res.status, 202);
  return locationPath(res.headers.get('location'));
}

const withDigest = (path: string, digest: string): string => `${path}${path.includes('?') ? '&' : '?'}digest=${encodeURIComponent(digest)}`;

describe('racing clients', () => {
  let reg: TestRegistry;
  before(async () => { reg = await startTestRegistry({ storage: 'filesystem' }); });
  after(async () => reg.close());

  it('five PATCHes of the same range at once: exactly one is taken', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const path = await open(reg.url, 'race/patch');
      const pieces = Array.from({ length: 5 }, () => randomBytes(20_000));
      const answers = await Promise.all(pieces.map((p) => call(reg.url, 'PATCH', path, p, { 'Content-Range': '0-19999' })));
      const winners = answers.map((a, i) => [a, i] as const).filter(([a]) => a.status === 202);
      assert.equal(winners.length, 1, `statuses ${answers.map((a) => a.status)}`);
      assert.ok(answers.every((a) => a.status === 202 || a.status === 416));
      const winner = pieces[winners[0]![1]]!;
      const done = await call(reg.url, 'PUT', withDigest(path, blob(winner).digest));
      assert.equal(done.status, 201, 'the session holds exactly the winning chunk');
    }
  });

  it('two finishes of one session at once: one 201, the other refused, the blob intact', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const data = randomBytes(50_000);
      const b = blob(data);
      const path = await open(reg.url, 'race/finish');
      assert.equal((await call(reg.url, 'PATCH', path, data)).status, 202);
      const answers = await Promise.all([0, 1].map(() => call(reg.url, 'PUT', withDigest(path, b.digest))));
      assert.deepEqual(answers.map((a) => a.status).sort(), [201, 404], `statuses ${answers.map((a) => a.status)}`);
      const got = await call(reg.url, 'GET', `/v2/race/finish/blobs/${b.digest}`);
      assert.equal(got.status, 200);
      assert.ok(got.body.equals(data));
    }
  });

  it('a cancel racing a chunk: the session ends up gone, and no blob appears', async () => {
    for (let round = 0; round < ROUNDS; round++) {
      const data = randomBytes(100_000);
      const path = await open(reg.url, 'race/cancel');
      const [patch, cancel] = await Promise.all([
        call(reg.url, 'PATCH', path, data),
        call(reg.url, 'DELETE', path),
      ]);
      assert.equal(cancel.status, 204, 'the cancel wins or follows');
      assert.ok(patch.status === 202 || patch.status === 404, `PATCH ${patch.status}`);
      const status = await call(reg.url, 'GET', path);
      assert.equal(status.status, 404, 'no session is left');
      const put = await call(reg.url, 'PUT', withDigest(path, blob(data).digest));
      assert.equal(put.status, 404);
    }
    const sessions = (await filesUnder(join(reg.root!, 'docker/registry/v2/repositories/race/cancel/_uploads')));
    assert.deepEqual(sessions, [], 'no session data left behind');
  });

  it('manifests racing for one tag: the tag names one of them and both are served by digest', async () => {
    const config = blob('{"race":true}');
    await pushBlob(reg.url, 'race/tag', config);
    for (let round = 0; round < ROUNDS; round++) {
      const layers = await Promise.all(Array.from({ length: 4 }, async () => {
        const l = blob(randomBytes(100));
        await pushBlob(reg.url, 'race/tag', l);
        return l;
      }));
      const manifests = layers.map((l) => imageManifest(config, [l]));
      const answers = await Promise.all(manifests.map((m) => call(reg.url, 'PUT', '/v2/race/tag/manifests/latest', m.body, { 'Content-Type': OCI_MANIFEST })));
      assert.deepEqual(answers.map((a) => a.status), [201, 201, 201, 201]);
      const tagged = await call(reg.url, 'GET', '/v2/race/tag/manifests/latest', undefined, { Accept: OCI_MANIFEST });
      assert.equal(tagged.status, 200);
      assert.ok(manifests.some((m) => m.body.equals(tagged.body)), 'the tag names one of the racing manifests');
      for (const m of manifests) {
        const got = await call(reg.url, 'GET', `/v2/race/tag/manifests/${m.digest}`, undefined, { Accept: OCI_MANIFEST });
        assert.equal(got.status, 200);
        assert.ok(got.body.equals(m.body));
      }
    }
  });

  it('a manifest delete racing a push of the same manifest under a tag: no dangling tag', async () => {
    const config = blob('{"race":"delete"}');
    const layer = blob(randomBytes(64));
    await pushBlob(reg.url, 'race/del', config);
    await pushBlob(reg.url, 'race/del', layer);
    const m = imageManifest(config, [layer]);
    for (let round = 0; round < ROUNDS; round++) {
      assert.equal((await call(reg.url, 'PUT', '/v2/race/del/manifests/a', m.body, { 'Content-Type': OCI_MANIFEST })).status, 201);
      const [put, del] = await Promise.all([
        call(reg.url, 'PUT', '/v2/race/del/manifests/b', m.body, { 'Content-Type': OCI_MANIFEST }),
        call(reg.url, 'DELETE', `/v2/race/del/manifests/${m.digest}`),
      ]);
      assert.equal(put.status, 201);
      assert.ok(del.status === 202 || del.status === 404, `DELETE ${del.status}`);
      // Whatever tag survives must resolve to a manifest that is served.
      const list = await call(reg.url, 'GET', '/v2/race/del/tags/list');
      const tags = list.status === 200 ? (JSON.parse(list.body.toString()) as { tags: string[] | null }).tags ?? [] : [];
      for (const tag of tags) {
        const got = await call(reg.url, 'GET', `/v2/race/del/manifests/${tag}`, undefined, { Accept: OCI_MANIFEST });
        assert.equal(got.status, 200, `listed tag ${tag} does not resolve (dangling)`);
      }
      await call(reg.url, 'DELETE', `/v2/race/del/manifests/${m.digest}`);
    }
  });

  it('retagging racing the delete of the old manifest: the new tag survives', async () => {
    const config = blob('{"race":"retag"}');
    await pushBlob(reg.url, 'race/retag', config);
    for (let round = 0; round < ROUNDS; round++) {
      const [oldLayer, newLayer] = [blob(randomBytes(64)), blob(randomBytes(64))];
      await pushBlob(reg.url, 'race/retag', oldLayer);
      await pushBlob(reg.url, 'race/retag', newLayer);
      const [before, next] = [imageManifest(config, [oldLayer]), imageManifest(config, [newLayer])];
      assert.equal((await call(reg.url, 'PUT', '/v2/race/retag/manifests/b', before.body, { 'Content-Type': OCI_MANIFEST })).status, 201);
      const [put, del] = await Promise.all([
        call(reg.url, 'PUT', '/v2/race/retag/manifests/b', next.body, { 'Content-Type': OCI_MANIFEST }),
        call(reg.url, 'DELETE', `/v2/race/retag/manifests/${before.digest}`),
      ]);
      assert.equal(put.status, 201);
      assert.equal(del.status, 202);
      const got = await call(reg.url, 'GET', '/v2/race/retag/manifests/b', undefined, { Accept: OCI_MANIFEST });
      assert.equal(got.status, 200, 'the tag acknowledged for the new manifest was removed by the delete of the old one');
      assert.equal(got.headers.get('docker-content-digest'), next.digest);
    }
  });
});
