// Personal access tokens in the console, in Debian's Chromium: create one (its text shown once),
// use it as skopeo's password, see its last use, revoke it and see skopeo refused; the page is
// walked by keyboard and checked by axe-core.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { PASSWORD, basic, image, pushWith, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { skopeoRun } from '../e2e/support/skopeo.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations } from './support/browser.js';
import { tabWalk } from './support/keyboard.js';

const skip = browserMissing();

describe('console access tokens in Chromium', { skip }, () => {
  let reg: AuthRegistry;
  let browser: Browser;
  before(async () => {
    [reg, browser] = await Promise.all([startAuthRegistry('basic'), launch()]);
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
    assert.equal(await pushWith(reg.url, 'pub/app', 'v1', image(), basic('root', PASSWORD)), 201);
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
  });

  const inspect = (token: string) => skopeoRun(['inspect', '--raw', '--tls-verify=false', '--creds', `root:${token}`, `docker://${reg.host}/pub/app:v1`]);

  it('creates a token shown once, which skopeo uses until it is revoked', async () => {
    const tab = await openTab(browser);
    const { page } = tab;
    await page.goto(`${reg.url}/ui/`);
    await page.getByLabel('User name').fill('root');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'Access tokens' }).click();
    await page.getByRole('heading', { name: 'Access tokens', level: 1 }).waitFor();
    await page.getByLabel('Name', { exact: true }).fill('ci');
    await page.getByLabel('Project').fill('pub');
    await page.getByRole('button', { name: 'Create token' }).click();
    const text = (await page.getByTestId('token-text').textContent())!;
    assert.match(text, /^berth_pat_/);
    const row = page.getByTestId('tokens').getByRole('row', { name: /^ci/ });
    assert.equal(await row.getByTestId('last-used').textContent(), 'never');
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'tokens-light');
    const used = await inspect(text);
    assert.equal(used.code, 0, used.stderr);
    await page.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByTestId('token-text').count(), 0, 'the text is gone once dismissed');
    await page.reload();
    await row.getByTestId('last-used').filter({ hasText: /ago$/ }).waitFor();
    const { missed, unringed } = await tabWalk(page);
    assert.deepEqual([missed, unringed], [[], []]);
    await row.getByRole('button', { name: 'Revoke ci' }).click();
    await page.getByText('You have no tokens.').waitFor();
    const refused = await inspect(text);
    assert.notEqual(refused.code, 0);
    assert.match(refused.stderr, /unauthorized|authentication required|401/i);
    const audit = await (await fetch(`${reg.url}/api/v1/audit?action=token.revoke`, { headers: { Authorization: basic('root', PASSWORD) } })).json() as Array<{ actor: string; target: string }>;
    assert.deepEqual(audit.map((a) => [a.actor, a.target]), [['root', 'root/ci']]);
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });
});
