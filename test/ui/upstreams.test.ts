// The console's Upstreams tab on two replicas sharing one PostgreSQL and one storage root, in
// front of one upstream: hits, misses and bytes are every replica's (the counters each replica
// adds to the metadata database), not only the answering process's. A pull through replica A
// misses and fills the cache; pulls through B and A again hit it. The page on B shows all of it,
// and B's own share as "this process"; axe-core finds nothing serious.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { image, pushWith, type Image } from '../auth/support.js';
import { CountingProxy, pull, upstream } from '../proxy/support.js';
import { freshPostgresDatabase, postgresAvailable } from '../support/postgres.js';
import { IN_CI, removeDir, tempDir } from '../e2e/support/env.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';

const skip = browserMissing() || (!IN_CI && !postgresAvailable() ? 'PostgreSQL is not installed (scripts/install-test-deps.sh installs it)' : false);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Totals { hits: { manifest: number; blob: number }; misses: { manifest: number; blob: number }; servedBytes: number; upstreamBytes: number }

describe('console Upstreams tab over two replicas in Chromium', { skip }, () => {
  let up: TestRegistry;
  let counting: CountingProxy;
  let dir: string;
  const replicas: TestRegistry[] = [];
  let browser: Browser;
  const img: Image = image();
  before(async () => {
    [up, browser, dir] = await Promise.all([startTestRegistry(), launch(), tempDir('ui-upstreams')]);
    assert.equal(await pushWith(up.url, 'team/app', 'v1', img, undefined), 201);
    counting = await CountingProxy.start(up.host);
    const url = await freshPostgresDatabase();
    // One after the other: the first runs the migrations.
    for (let i = 0; i < 2; i++) {
      replicas.push(await startTestRegistry({
        root: dir,
        configure: (c) => {
          c.proxy = { ...c.proxy, upstreams: [upstream('hub', counting.url)] };
          c.metrics = { ...c.metrics, enabled: true };
          c.meta = { ...c.meta, postgres: { url } };
        },
      }));
    }
  });
  after(async () => {
    await browser?.close();
    for (const r of replicas) await r.close();
    await counting?.close();
    await up?.close();
    await removeDir(dir);
  });

  it('shows hits, misses and bytes of every replica, and the answering one\'s share', async () => {
    const [a, b] = replicas as [TestRegistry, TestRegistry];
    assert.equal((await pull(a.url, 'hub/team/app', 'v1')).status, 200);
    assert.equal((await pull(b.url, 'hub/team/app', 'v1')).status, 200);
    assert.equal((await pull(a.url, 'hub/team/app', 'v1')).status, 200);
    const size = img.manifest.body.length + img.config.size + img.layer.size;
    // Each replica adds its counts every 2 s: wait until B's answer holds all three pulls.
    let totals: Totals | undefined;
    for (let i = 0; i < 50; i++) {
      const res = await fetch(`${b.url}/api/v1/upstreams`);
      assert.equal(res.status, 200);
      totals = ((await res.json()) as { items: Array<{ name: string; totals: Totals }> }).items.find((u) => u.name === 'hub')?.totals;
      if (totals && totals.hits.manifest + totals.hits.blob + totals.misses.manifest + totals.misses.blob === 9) break;
      await sleep(200);
    }
    assert.deepEqual(totals && { hits: totals.hits, misses: totals.misses, servedBytes: totals.servedBytes, upstreamBytes: totals.upstreamBytes }, {
      hits: { manifest: 2, blob: 4 }, misses: { manifest: 1, blob: 2 }, servedBytes: 3 * size, upstreamBytes: size,
    }, 'A missed once (manifest, config, layer), B and A hit; every pull served the image');

    const tab = await openTab(browser);
    const { page } = tab;
    await page.goto(`${b.url}/ui/admin?tab=upstreams`);
    const row = page.getByTestId('upstreams').getByRole('row', { name: /^hub/ });
    await row.waitFor();
    const hits = row.getByTestId('upstream-hits');
    assert.equal(await hits.getAttribute('data-hits'), '6');
    assert.equal(await hits.getAttribute('data-misses'), '3');
    assert.equal(await hits.textContent(), '6 / 3this process: 3 / 0');
    assert.equal(Number(await row.getByTestId('upstream-served').getAttribute('data-bytes')), 3 * size);
    assert.equal(Number(await row.getByTestId('upstream-fetched').getAttribute('data-bytes')), size);
    const cells = await row.getByRole('cell').allTextContents();
    assert.equal(cells[0], 'hub/…');
    assert.equal(cells[1], 'closed');
    assert.match(cells[2]!, /1 manifests, 2 blobs, 1 tags/);
    assert.equal(cells[4], '67%');
    assert.equal(cells[7], 'none');
    assert.equal(counting.count('GET', /\/blobs\/sha256:/), 2, 'the upstream gave each blob once');
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'upstreams-light');
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });
});
