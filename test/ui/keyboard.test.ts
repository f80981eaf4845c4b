// Every page of the console by keyboard alone, in Debian's Chromium: Tab reaches every control a
// mouse could use, each with a visible focus ring; and the repository page's actions (select a
// tag, open the delete preview and cancel it, open a pull command, change its client, copy it)
// work with Tab, Space, Enter and the arrow keys only.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { PASSWORD, image, pushWith, seed, startAuthRegistry, basic, type AuthRegistry } from '../auth/support.js';
import { browserMissing, launch, openTab, seriousViolations, type Tab } from './support/browser.js';
import { focusedLabel, resetFocus, tabUntil, tabWalk } from './support/keyboard.js';

const skip = browserMissing();

describe('console by keyboard alone in Chromium', { skip }, () => {
  let reg: AuthRegistry;
  let browser: Browser;
  let tab: Tab;
  const v1 = image();
  before(async () => {
    [reg, browser] = await Promise.all([startAuthRegistry('basic'), launch()]);
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', v1, basic('root', PASSWORD)), 201);
    assert.equal(await pushWith(reg.url, 'pub/app', 'old', image(), basic('root', PASSWORD)), 201);
    tab = await openTab(browser);
    await tab.context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: reg.url });
    await tab.page.goto(`${reg.url}/ui/`);
    await tabUntil(tab.page, 'User name');
    await tab.page.keyboard.type('root');
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.type(PASSWORD);
    await tab.page.keyboard.press('Enter');
    await tab.page.getByRole('heading', { name: 'Welcome, root' }).waitFor();
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
  });

  async function walk(page: Page, path: string, ready: (page: Page) => Promise<unknown>): Promise<void> {
    await page.goto(`${reg.url}/ui/${path}`);
    await ready(page);
    const { missed, unringed, reached } = await tabWalk(page);
    assert.deepEqual(missed, [], `${path}: controls Tab never reaches`);
    assert.deepEqual(unringed, [], `${path}: controls focused without a visible ring`);
    assert.ok(reached > 3, `${path}: only ${reached} controls`);
  }

  it('reaches every control of every page by Tab, each with a visible focus ring', async () => {
    const { page } = tab;
    await walk(page, '', (p) => p.getByRole('link', { name: 'pub/app' }).first().waitFor());
    await walk(page, 'search?q=pub', (p) => p.getByRole('link', { name: 'pub/app' }).first().waitFor());
    await walk(page, 'projects/pub', (p) => p.getByRole('button', { name: 'Preview what these rules would delete' }).waitFor());
    await walk(page, 'repositories/pub/app', (p) => p.getByRole('checkbox', { name: 'Select old' }).waitFor());
    await walk(page, `repositories/pub/app@${v1.manifest.digest}`, (p) => p.getByTestId('digest').waitFor());
    for (const admin of ['users', 'projects', 'robots', 'audit', 'gc', 'upstreams', 'notifications']) {
      await walk(page, `admin?tab=${admin}`, (p) => p.getByRole('heading', { level: 2 }).first().waitFor());
    }
    assert.deepEqual(tab.problems, []);
  });

  it('selects, previews and cancels a delete, and copies a pull command, by keyboard alone', async () => {
    const { page } = tab;
    await page.goto(`${reg.url}/ui/repositories/pub/app`);
    await page.getByRole('checkbox', { name: 'Select old' }).waitFor();
    await resetFocus(page);
    await tabUntil(page, 'Select old');
    await page.keyboard.press('Space');
    assert.equal(await page.getByRole('checkbox', { name: 'Select old' }).isChecked(), true);
    await tabUntil(page, 'Delete selected (1)');
    await page.keyboard.press('Enter');
    const dialog = page.getByRole('dialog');
    await dialog.getByTestId('freed-bytes').waitFor();
    assert.equal(await page.evaluate<boolean>("document.activeElement?.closest('dialog') !== null"), true, 'focus moves into the dialog');
    assert.deepEqual(await seriousViolations(page), []);
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'detached' });
    assert.equal(await focusedLabel(page), 'Delete selected (1)', 'focus returns to the button that opened it');
    await tabUntil(page, 'Pull v1');
    await page.keyboard.press('Enter');
    await tabUntil(page, 'Client for v1');
    await page.keyboard.press('End');
    await tabUntil(page, /^Copy the .* pull command for v1$/);
    assert.equal(await focusedLabel(page), 'Copy the berth pull command for v1', 'End picked the last client');
    await page.keyboard.press('Enter');
    assert.match(await page.evaluate<string>('navigator.clipboard.readText()'), new RegExp(`^berth copy --src-plain-http docker://${reg.host}/pub/app:v1 `));
    const tags = await (await fetch(`${reg.url}/v2/pub/app/tags/list`, { headers: { Authorization: basic('root', PASSWORD) } })).json() as { tags: string[] };
    assert.deepEqual(tags.tags.sort(), ['old', 'v1'], 'cancel deleted nothing');
    assert.deepEqual(tab.problems, []);
  });

  it('runs a GC dry run by keyboard and lists it among the past runs', async () => {
    const { page } = tab;
    await page.goto(`${reg.url}/ui/admin?tab=gc`);
    await page.getByRole('heading', { name: 'Past runs' }).waitFor();
    await resetFocus(page);
    await tabUntil(page, 'Dry run');
    await page.keyboard.press('Enter');
    await page.getByTestId('gc-report').waitFor();
    const row = page.getByTestId('gc-runs').getByRole('row').nth(1);
    await row.waitFor();
    const cells = await row.getByRole('cell').allTextContents();
    assert.deepEqual(cells.slice(1, 3), ['api (root)', 'dry run']);
    assert.deepEqual(await seriousViolations(page), []);
    assert.deepEqual(tab.problems, []);
  });
});
