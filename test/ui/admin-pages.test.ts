// A project's retention settings in Debian's Chromium, on an open registry (auth off) with a
// pull-through upstream: the retention dry run shows what the configured rules and a draft would
// untag and free, with the YAML to apply the draft; axe-core finds nothing serious. (The
// Upstreams tab is test/ui/upstreams.test.ts, on two replicas.)
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { startTestRegistry, type TestRegistry } from '../support/registry-server.js';
import { image, pushWith, type Image } from '../auth/support.js';
import { CountingProxy, startMirror, upstream } from '../proxy/support.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';

const skip = browserMissing();

describe('console administration pages in Chromium', { skip }, () => {
  let up: TestRegistry;
  let counting: CountingProxy;
  let mirror: TestRegistry;
  let browser: Browser;
  const images: Record<string, Image> = { old: image(), 'release-1': image(), new: image() };
  before(async () => {
    [up, browser] = await Promise.all([startTestRegistry(), launch()]);
    assert.equal(await pushWith(up.url, 'team/app', 'v1', image(), undefined), 201);
    counting = await CountingProxy.start(up.host);
    mirror = await startMirror({ upstreams: [upstream('hub', counting.url)] }, (c) => {
      c.metrics = { ...c.metrics, enabled: true };
      c.gc = { ...c.gc, retention: { ...c.gc?.retention, projects: { team: { keeplast: 1, immutabletags: ['release-*'] } } } } as typeof c.gc;
    });
    for (const [tag, img] of Object.entries(images)) {
      assert.equal(await pushWith(mirror.url, 'team/app', tag, img, undefined), 201);
      await new Promise((r) => setTimeout(r, 20)); // distinct link times: "newest" is by push time
    }
  });
  after(async () => {
    await browser?.close();
    await mirror?.close();
    await counting?.close();
    await up?.close();
  });

  it('dry-runs the project\'s retention rules and a draft, and deletes nothing', async () => {
    const tab = await openTab(browser, 'dark');
    const { page } = tab;
    await page.goto(`${mirror.url}/ui/projects/team`);
    const current = page.getByTestId('retention-current');
    await current.getByRole('status').waitFor();
    assert.equal(await current.getByRole('status').getAttribute('data-deletes'), '1');
    const size = (t: string) => images[t]!.manifest.body.length + images[t]!.config.size + images[t]!.layer.size;
    assert.equal(Number(await current.getByRole('status').getAttribute('data-freed')), size('old'));
    await page.getByLabel('Keep the newest').fill('');
    await page.getByLabel('Always keep tags matching').fill('new');
    await page.getByLabel('Immutable tags').fill('');
    await page.getByRole('button', { name: 'Preview what these rules would delete' }).click();
    const draft = page.getByTestId('retention-draft').getByRole('status');
    await draft.waitFor();
    assert.equal(await draft.getAttribute('data-deletes'), '0', 'no count or age rule: nothing fails');
    await page.getByLabel('Keep the newest').fill('0');
    await page.getByRole('button', { name: 'Preview what these rules would delete' }).click();
    await page.locator('[data-testid="retention-draft"] [data-deletes="2"]').waitFor();
    assert.equal(Number(await draft.getAttribute('data-freed')), size('old') + size('release-1'));
    assert.equal(await page.getByTestId('retention-yaml').textContent(), 'gc:\n  retention:\n    projects:\n      team:\n        keeplast: 0\n        keeptags: ["new"]');
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'project-retention-dark');
    const tags = await (await fetch(`${mirror.url}/v2/team/app/tags/list`)).json() as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['new', 'old', 'release-1']);
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });
});
