// The console's main flows in Debian's Chromium, on images skopeo pushed: find an image, check
// its platforms against its manifest, copy its pull command and pull with it, preview and delete
// a tag and find the deletion in the audit log; a guest sees no delete button and the registry
// refuses the guest's delete anyway; axe-core finds nothing serious on any page, light or dark.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { copy, inspectRaw } from '../e2e/support/skopeo.js';
import { sharedLabImages } from '../e2e/support/shared-images.js';
import type { LabImages } from '../e2e/support/images.js';
import { runBerth } from '../support/cli.js';
import { appendAudit } from '../../src/auth/audit.js';
import { tempDir, removeDir } from '../e2e/support/env.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations, type Tab } from './support/browser.js';

const skip = browserMissing();

describe('console flows in Chromium', { skip }, () => {
  let reg: AuthRegistry;
  let browser: Browser;
  let images: LabImages;
  let work: string;
  before(async () => {
    [reg, browser, images, work] = await Promise.all([startAuthRegistry('basic'), launch(), sharedLabImages(), tempDir('ui-pull')]);
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    const creds = ['--dest-creds', `root:${PASSWORD}`];
    await copy(images.oci('multiarch'), `docker://${reg.host}/pub/app:v1`, { all: true, extra: creds });
    await copy(images.oci('tiny'), `docker://${reg.host}/pub/app:old`, { extra: creds });
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
    await removeDir(work);
  });

  async function signIn(user: string, colorScheme: 'light' | 'dark' = 'light'): Promise<Tab> {
    const tab = await openTab(browser, colorScheme);
    await tab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: reg.url });
    await tab.page.goto(`${reg.url}/ui/`);
    await tab.page.getByLabel('User name').fill(user);
    await tab.page.getByLabel('Password').fill(PASSWORD);
    await tab.page.getByRole('button', { name: 'Sign in' }).click();
    await tab.page.getByRole('heading', { name: `Welcome, ${user}` }).waitFor();
    return tab;
  }

  async function clean(page: Page, name: string): Promise<void> {
    assert.deepEqual(await seriousViolations(page), [], `axe on ${name}`);
    await screenshot(page, name);
  }

  it('finds the image skopeo pushed, shows its platforms as its manifest lists them, and pulls with the copied command', async () => {
    const tab = await signIn('root');
    const { page } = tab;
    await page.getByRole('link', { name: 'pub/app' }).first().waitFor();
    const total = await (await fetch(`${reg.url}/api/v1/usage`, { headers: { Authorization: `Basic ${Buffer.from(`root:${PASSWORD}`).toString('base64')}` } })).json() as { totalBytes: number };
    assert.ok(total.totalBytes > 0);
    await page.locator(`[data-testid="storage-used"][data-bytes="${total.totalBytes}"]`).waitFor();
    await clean(page, 'home-light');
    await page.getByLabel('Search repositories').fill('pub/a');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('heading', { name: /Repositories matching/ }).waitFor();
    await page.getByRole('link', { name: 'pub/app' }).click();
    await page.getByRole('heading', { name: 'pub/app' }).waitFor();
    const row = page.locator('tr', { has: page.getByRole('link', { name: 'v1', exact: true }) });
    await row.waitFor();
    const index = JSON.parse((await inspectRaw(`docker://${reg.host}/pub/app:v1`)).toString()) as { manifests: Array<{ platform?: { os: string; architecture: string; variant?: string } }> };
    const expected = index.manifests.map((m) => [m.platform!.os, m.platform!.architecture, m.platform!.variant].filter(Boolean).join('/')).sort();
    const chips = (await row.locator('.chip').allTextContents()).sort();
    assert.deepEqual(chips, expected);
    await clean(page, 'repository-light');
    await row.getByText('Pull v1').click();
    await row.getByLabel('Client for v1', { exact: true }).selectOption('berth');
    await row.getByRole('button', { name: 'Copy the berth pull command for v1', exact: true }).click();
    const command = await page.evaluate<string>('navigator.clipboard.readText()');
    assert.match(command, new RegExp(`^berth copy --src-plain-http docker://${reg.host}/pub/app:v1 oci:./app:v1$`));
    const pulled = await runBerth(command.split(' ').slice(1), {}, 120_000, { cwd: work });
    assert.equal(pulled.code, 0, pulled.stderr);
    await page.getByRole('link', { name: 'v1', exact: true }).click();
    await page.getByTestId('platforms').waitFor();
    assert.equal((await page.getByTestId('digest').textContent())?.trim(), images.digest('multiarch'));
    await clean(page, 'artifact-light');
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });

  it('previews the bytes a delete frees, deletes the tag, and the audit log shows it', async () => {
    const tab = await signIn('root', 'dark');
    const { page } = tab;
    await page.goto(`${reg.url}/ui/repositories/pub/app`);
    await page.getByRole('checkbox', { name: 'Select old' }).check();
    await page.getByRole('button', { name: 'Delete selected (1)' }).click();
    const freed = page.getByTestId('freed-bytes');
    await freed.waitFor();
    const raw = await inspectRaw(`docker://${reg.host}/pub/app:old`);
    const tiny = JSON.parse(raw.toString()) as { config: { size: number }; layers: Array<{ size: number }> };
    assert.equal(Number(await freed.getAttribute('data-bytes')), raw.length + tiny.config.size + tiny.layers.reduce((n, l) => n + l.size, 0), 'its manifest, config and layers: v1 shares none of them');
    await clean(page, 'delete-preview-dark');
    await page.getByRole('dialog').getByRole('button', { name: 'Delete' }).click();
    await page.getByRole('checkbox', { name: 'Select old' }).waitFor({ state: 'detached' });
    await page.goto(`${reg.url}/ui/admin?tab=audit`);
    await page.getByTestId('audit').getByRole('cell', { name: /^pub\/app@sha256:/ }).first().waitFor();
    await clean(page, 'audit-dark');
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });

  it('pages and filters the audit log, downloads it as CSV, and lists and requeues dead letters', async () => {
    const db = reg.server.auth!.meta.db;
    const t0 = Date.parse('2026-03-01T10:00:00Z');
    for (let i = 0; i < 60; i++) await appendAudit(db, { actor: 'ci', address: '10.0.0.1', action: 'test.page', target: `pub/app:t${i}` }, new Date(t0 + i * 60_000));
    await appendAudit(db, { actor: 'ci', address: '10.0.0.1', action: 'test.page', target: 'other/app:t0' }, new Date(t0));
    const now = Date.now();
    for (const [i, endpoint] of ['hook-a', 'hook-b', 'hook-a'].entries()) {
      await db.insertInto('berth_event_queue').values({
        endpoint, event_id: `e${i}`, seq: i, payload: JSON.stringify({ id: `e${i}`, action: 'push', target: { repository: 'pub/app' } }), action: 'push', repository: 'pub/app',
        attempts: 5, next_attempt_at: now, created_at: now + i, last_error: `HTTP 50${i}`, dead_at: now + i, claim: null,
      }).execute();
    }
    const tab = await signIn('root');
    const { page } = tab;
    await page.goto(`${reg.url}/ui/admin?tab=audit`);
    await page.getByTestId('audit').waitFor();
    await page.getByLabel('Action').fill('test.page');
    await page.getByLabel('Repository').fill('pub/app');
    await page.getByRole('button', { name: 'Filter' }).click();
    const targets = () => page.getByTestId('audit').locator('tbody tr td:nth-child(5)').allTextContents();
    await page.getByTestId('audit').getByRole('cell', { name: 'pub/app:t59', exact: true }).waitFor();
    const first = await targets();
    assert.deepEqual(first, Array.from({ length: 50 }, (_, i) => `pub/app:t${59 - i}`), 'newest first, 50 a page, other/app filtered out');
    await page.getByRole('button', { name: 'Next' }).click();
    await page.getByTestId('audit').getByRole('cell', { name: 'pub/app:t9', exact: true }).waitFor();
    assert.deepEqual(await targets(), Array.from({ length: 10 }, (_, i) => `pub/app:t${9 - i}`));
    assert.equal(await page.getByRole('button', { name: 'Next' }).isDisabled(), true);
    // datetime-local fields hold the browser's local time; the page sends them as ISO times.
    const local = (ms: number) => page.evaluate((t) => {
      const d = new Date(t);
      const p = (n: number) => String(n).padStart(2, '0');
      return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())}T${p(d.getHours())}:${p(d.getMinutes())}`;
    }, ms);
    await page.getByLabel('Since').fill(await local(t0 + 5 * 60_000));
    await page.getByLabel('Until').fill(await local(t0 + 8 * 60_000));
    const shifted = (m: number) => `pub/app:t${m}`;
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByTestId('audit').getByRole('cell', { name: shifted(7), exact: true }).waitFor();
    assert.deepEqual(await targets(), [shifted(7), shifted(6), shifted(5)], 'since inclusive, until exclusive');
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('link', { name: 'Export CSV' }).click()]);
    assert.equal(download.suggestedFilename(), 'berth-audit.csv');
    const csv = (await readFile((await download.path())!, 'utf8')).split('\r\n');
    assert.equal(csv[0], 'at,actor,address,action,target,detail');
    assert.deepEqual(csv.slice(1, -1).map((l) => l.split(',')[4]), [shifted(7), shifted(6), shifted(5)], 'the CSV holds what the filters show');
    assert.equal(csv.at(-1), '');
    await clean(page, 'audit-filtered-light');

    await page.goto(`${reg.url}/ui/admin?tab=notifications`);
    const letters = page.getByTestId('deadletters');
    await letters.waitFor();
    const rows = async () => (await letters.locator('tbody tr').all()).length;
    assert.equal(await rows(), 3);
    await page.getByLabel('Endpoint').fill('hook-a');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.getByRole('button', { name: 'Requeue hook-a' }).waitFor();
    assert.deepEqual(await letters.locator('tbody tr td:nth-child(1)').allTextContents(), ['hook-a', 'hook-a']);
    assert.deepEqual(await letters.locator('tbody tr td:nth-child(5)').allTextContents(), ['HTTP 500', 'HTTP 502']);
    await clean(page, 'deadletters-light');
    await page.getByRole('button', { name: 'Requeue hook-a' }).click();
    await page.getByText('2 requeued.').waitFor();
    await page.getByText('No notification is waiting here.').waitFor();
    const left = await db.selectFrom('berth_event_queue').select(['event_id', 'dead_at', 'attempts']).orderBy('seq').execute();
    assert.deepEqual(left.map((r) => [r.event_id, r.dead_at === null]), [['e0', true], ['e1', false], ['e2', true]]);
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });

  it('shows a guest no delete button, and the registry refuses the guest\'s delete', async () => {
    await reg.store.setMember('pub', 'gus', 'guest');
    const tab = await signIn('gus');
    const { page } = tab;
    await page.goto(`${reg.url}/ui/repositories/pub/app`);
    await page.getByRole('link', { name: 'v1', exact: true }).waitFor();
    assert.equal(await page.getByRole('button', { name: /Delete selected/ }).count(), 0);
    assert.equal(await page.getByRole('checkbox').count(), 0);
    const status = await page.evaluate<number>(`(async () => {
      const s = await (await fetch('/ui/auth/session')).json();
      const r = await fetch('/v2/pub/app/manifests/${images.digest('multiarch')}', { method: 'DELETE', headers: { 'X-Berth-CSRF': s.csrf } });
      return r.status;
    })()`);
    assert.equal(status, 403);
    await tab.context.close();
  });
});
