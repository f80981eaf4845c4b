// The console's sign-in in Debian's Chromium: wrong and right passwords by keyboard alone, the
// session cookie out of reach of scripts and nothing secret in the page's storage, sign-out, a
// Content-Security-Policy the built page keeps without a single violation, and no serious or
// critical axe-core finding on the sign-in page in either theme.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { PASSWORD, seed, startAuthRegistry, type AuthRegistry } from '../auth/support.js';
import { browserMissing, launch, openTab, screenshot, seriousViolations, type Tab } from './support/browser.js';

const skip = browserMissing();

describe('console sign-in in Chromium', { skip }, () => {
  let reg: AuthRegistry;
  let browser: Browser;
  before(async () => {
    [reg, browser] = await Promise.all([startAuthRegistry('basic'), launch()]);
    await seed(reg.store);
    await reg.store.addUser('root', PASSWORD, true);
  });
  after(async () => {
    await browser?.close();
    await reg?.close();
  });

  async function signInByKeyboard(tab: Tab, user: string, password: string): Promise<void> {
    await tab.page.goto(`${reg.url}/ui/`);
    await tab.page.getByLabel('User name').focus();
    await tab.page.keyboard.type(user);
    await tab.page.keyboard.press('Tab');
    await tab.page.keyboard.type(password);
    await tab.page.keyboard.press('Enter');
  }

  it('refuses a wrong password with a message, then signs in by keyboard alone and out again', async () => {
    const tab = await openTab(browser);
    const { page } = tab;
    await signInByKeyboard(tab, 'bob', 'not-the-password');
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();
    assert.deepEqual(await seriousViolations(page), []);
    await screenshot(page, 'sign-in-light');
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByLabel('Password').press('Enter');
    await page.getByRole('heading', { name: 'Welcome, bob' }).waitFor();
    const cookies = await tab.context.cookies();
    const session = cookies.find((c) => c.name === 'berth_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Strict');
    assert.equal(await page.evaluate("document.cookie.includes('berth_session')"), false, 'scripts cannot read the session');
    const stored = await page.evaluate<string>('JSON.stringify({ ...localStorage }) + JSON.stringify({ ...sessionStorage })');
    assert.equal(stored.includes(session.value), false);
    assert.doesNotMatch(stored, /csrf|token|password/i);
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in to Berth' }).waitFor();
    assert.equal((await tab.context.cookies()).some((c) => c.name === 'berth_session' && c.value !== ''), false);
    const me = await page.evaluate<{ identity: unknown }>("fetch('/ui/auth/session').then((r) => r.json())");
    assert.equal(me.identity, null, 'the server ended the session');
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });

  it('keeps its Content-Security-Policy (no inline script or style) and passes axe-core in the dark theme', async () => {
    const tab = await openTab(browser, 'dark');
    const response = await tab.page.goto(`${reg.url}/ui/`);
    const csp = response?.headers()['content-security-policy'] ?? '';
    assert.match(csp, /script-src 'self'/);
    assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/);
    await tab.page.getByRole('heading', { name: 'Sign in to Berth' }).waitFor();
    assert.equal(await tab.page.evaluate('document.documentElement.dataset.theme'), 'dark');
    assert.deepEqual(await seriousViolations(tab.page), []);
    await screenshot(tab.page, 'sign-in-dark');
    assert.deepEqual(tab.problems, []);
    await tab.context.close();
  });

  it('shows the sign-in page again when the session ends on the server', async () => {
    const tab = await openTab(browser);
    await signInByKeyboard(tab, 'root', PASSWORD);
    await tab.page.getByRole('link', { name: 'Administration' }).waitFor();
    await reg.server.auth!.meta.db.deleteFrom('console_sessions').execute();
    await tab.page.getByRole('link', { name: 'Administration' }).click();
    await tab.page.getByRole('heading', { name: 'Sign in to Berth' }).waitFor();
    await tab.page.getByText('Your session has ended').waitFor();
    await tab.context.close();
  });
});
