// The read API's retention dry run: the configured rules of a project (keep the newest tag,
// release-* immutable) and a draft given in the query judge every tag, say what they would
// untag and what collecting the manifests left untagged frees; nothing is deleted.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { PASSWORD, basic, image, pushWith, seed, startAuthRegistry, type AuthRegistry, type Image } from '../auth/support.js';
import { assertError, getJson, read } from './read-support.js';

interface Preview {
  project: string; configured: boolean; policy: { keeplast: number | null; keeptags: string[]; immutabletags: string[] };
  decisions: Array<{ repository: string; tag: string; action: string; reason: string }>; deletes: number; untaggedManifests: number; freedBytes: number | null;
}

describe('read API: retention dry run', () => {
  let reg: AuthRegistry;
  const root = basic('root', PASSWORD);
  const images: Record<string, Image> = { old: image(), 'release-1': image(), new: image() };
  const size = (...tags: string[]) => tags.reduce((n, t) => n + images[t]!.manifest.body.length + images[t]!.config.size + images[t]!.layer.size, 0);

  before(async () => {
    reg = await startAuthRegistry('basic', {}, {
      configure: (c) => { c.gc = { ...c.gc, retention: { ...c.gc?.retention, projects: { team: { keeplast: 1, immutabletags: ['release-*'] } } } } as typeof c.gc; },
    });
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    for (const [tag, img] of Object.entries(images)) {
      assert.equal(await pushWith(reg.url, 'team/app', tag, img, root), 201);
      await new Promise((r) => setTimeout(r, 20)); // distinct link times: "newest" is by push time
    }
  });
  after(async () => reg?.close());

  const judged = (p: Preview) => Object.fromEntries(p.decisions.map((d) => [d.tag, d.action]));

  it('judges the configured rules: the newest and the immutable tag stay', async () => {
    const p = await read<Preview>(`${reg.url}/api/v1/retention/team`, 'RetentionPreview', root);
    assert.equal(p.configured, true);
    assert.deepEqual(p.policy.immutabletags, ['release-*']);
    assert.deepEqual(judged(p), { new: 'keep', 'release-1': 'keep', old: 'delete' });
    assert.match(p.decisions.find((d) => d.tag === 'release-1')!.reason, /immutable/);
    assert.deepEqual([p.deletes, p.untaggedManifests, p.freedBytes], [1, 1, size('old')]);
  });

  it('judges a draft from the query, and changes nothing', async () => {
    const p = await read<Preview>(`${reg.url}/api/v1/retention/team?keeplast=0&keeptags=ne*`, 'RetentionPreview', root);
    assert.deepEqual(judged(p), { new: 'keep', 'release-1': 'delete', old: 'delete' });
    assert.deepEqual([p.deletes, p.freedBytes], [2, size('old', 'release-1')]);
    const tags = await (await fetch(`${reg.url}/v2/team/app/tags/list`, { headers: { Authorization: root } })).json() as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['new', 'old', 'release-1']);
    const none = await read<Preview>(`${reg.url}/api/v1/retention/other`, 'RetentionPreview', root);
    assert.deepEqual([none.configured, none.decisions], [false, []]);
  });

  it('counts a pull of a moment ago for keeppulledwithin (pulls not yet written in their batch)', async () => {
    const pulled = await fetch(`${reg.url}/v2/team/app/manifests/old`, { headers: { Authorization: root, Accept: images.old!.manifest.mediaType } });
    assert.equal(pulled.status, 200);
    await pulled.arrayBuffer();
    // At once: the recorder writes pull times every 2 s, and this asks within milliseconds.
    const p = await read<Preview>(`${reg.url}/api/v1/retention/team?keeplast=0&keeppulledwithin=1h`, 'RetentionPreview', root);
    assert.deepEqual(judged(p), { new: 'delete', 'release-1': 'delete', old: 'keep' });
    assert.match(p.decisions.find((d) => d.tag === 'old')!.reason, /pulled/);
  });

  it('refuses bad drafts and anyone but administrators', async () => {
    assertError(await getJson(`${reg.url}/api/v1/retention/team?keeplast=-1`, root), 400, 'INVALID');
    assertError(await getJson(`${reg.url}/api/v1/retention/team?deleteolderthan=soon`, root), 400, 'INVALID');
    assertError(await getJson(`${reg.url}/api/v1/retention/team?what=1`, root), 400, 'INVALID');
    assertError(await getJson(`${reg.url}/api/v1/retention/team`, basic('bob', PASSWORD)), 403, 'DENIED');
  });
});
