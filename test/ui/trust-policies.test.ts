// The console's Trust policies tab in Debian's Chromium: config.yml's policy shown read-only; an
// administrator stores an enforce policy with a PEM key pasted in, and the unsigned image's pull
// is refused at once; a body the server refuses shows the refusal naming the key; Remove lifts
// the policy. axe-core finds nothing serious on the tab.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser } from 'playwright-core';
import { PASSWORD, basic, image, pushWith, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { mustRun } from '../e2e/support/run.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';

const skip = browserMissing();

describe('console trust policies in Chromium', { skip }, () => {
  let reg: AuthRegistry;
  let browser: Browser;
  let dir: string;
  let pub: string;
  const admin = basic('root', PASSWORD);
  const pull = async () => (await fetch(`${reg.url}/v2/ui/app/manifests/v1`, { headers: { authorization: admin, accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'berth-ui-trust-'));
    await mustRun('openssl', ['genpkey', '-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256', '-out', join(dir, 'k.key')]);
    await mustRun('openssl', ['pkey', '-in', join(dir, 'k.key'), '-pubout', '-out', join(dir, 'k.pub')]);
    pub = await readFile(join(dir, 'k.pub'), 'utf8');
    [reg, browser] = await Promise.all([
      startAuthRegistry('basic', {}, { configure: (c) => { c.trust.policies = [{ name: 'fixed', repositories: ['fixed/*'], mode: 'audit', keys: [join(dir, 'k.pub')], exempt: [] }]; } }),
      launch(),
    ]);
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await pushWith(reg.url, 'ui/app', 'v1', image(), admin), 201);
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('stores, refuses and removes a policy; the pull follows at once', async () => {
    const tab = await openTab(browser);
    const { page } = tab;
    await page.goto(`${reg.url}/ui/`);
    await page.getByLabel('User name').fill('root');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Welcome, root' }).waitFor();
    await page.goto(`${reg.url}/ui/admin?tab=trust`);
    await page.getByRole('heading', { name: 'Trust policies' }).waitFor();
    const table = page.getByTestId('trust-policies');
    await table.getByRole('rowheader', { name: 'fixed' }).waitFor();
    assert.equal(await page.getByRole('button', { name: 'Remove fixed' }).count(), 0, 'config.yml\'s policy is read-only here');

    await page.getByLabel('Policy name').fill('ui');
    await page.getByLabel(/^Policy \(JSON/).fill(JSON.stringify({ repositories: ['ui/*'], mode: 'enforce', keys: ['/etc/berth/cosign.pub'] }));
    await page.getByRole('button', { name: 'Store policy' }).click();
    assert.match(await page.getByRole('alert').textContent() ?? '', /policy\.keys\[0\]: not a PEM public key/);
    assert.equal(await pull(), 200);

    await page.getByLabel(/^Policy \(JSON/).fill(JSON.stringify({ repositories: ['ui/*'], mode: 'enforce', keys: [pub] }, null, 2));
    await page.getByRole('button', { name: 'Store policy' }).click();
    await table.getByRole('rowheader', { name: 'ui' }).waitFor();
    assert.equal(await pull(), 403, 'in force at the next pull');
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'admin-trust-policies');

    await page.getByRole('button', { name: 'Remove ui' }).click();
    await table.getByRole('rowheader', { name: 'ui' }).waitFor({ state: 'detached' });
    assert.equal(await pull(), 200);
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });
});
