// A crash while a new tag's link is being written leaves its directory without `current/link`
// on a filesystem; tags/list must not show such a tag (it never resolved for anyone).
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { startTestRegistry } from '../support/registry-server.js';
import { blob, imageManifest } from '../support/oci-fixtures.js';
import { pushImage } from '../support/push.js';

it('lists only tags whose current link exists', async () => {
  const server = await startTestRegistry({ storage: 'filesystem' });
  try {
    const config = blob('{}');
    const layer = blob();
    await pushImage(server.url, 'team/app', 'v1', config, [layer], imageManifest(config, [layer]));
    mkdirSync(join(server.root!, 'docker/registry/v2/repositories/team/app/_manifests/tags/ghost/current'), { recursive: true });
    const listed = await (await fetch(`${server.url}/v2/team/app/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(listed.tags, ['v1']);
    assert.equal((await fetch(`${server.url}/v2/team/app/manifests/ghost`, { method: 'HEAD' })).status, 404);
  } finally {
    await server.close();
  }
});
