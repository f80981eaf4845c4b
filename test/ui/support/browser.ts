// Debian's Chromium driven by playwright-core (no browser download): one browser per test file,
// a fresh context (cookies, storage) per user. Pages are checked with axe-core, and every
// Content-Security-Policy violation and page error is collected so tests can assert there were none.
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { PROJECT_ROOT, IN_CI } from '../../e2e/support/env.js';

export const CHROMIUM = '/usr/bin/chromium';
/** Where the tests write their screenshots (the best are copied to docs/images for the README). */
export const SCREENSHOTS = process.env.BERTH_SCREENSHOTS ?? join(PROJECT_ROOT, 'dist', 'screenshots');

/** Undefined when the browser is there; else why the test is skipped (outside CI) or fails (in CI). */
export function browserMissing(): string | undefined {
  if (existsSync(CHROMIUM)) return undefined;
  const why = `${CHROMIUM} is not installed (apt-get install chromium fonts-liberation; scripts/test-deps/ui.list)`;
  if (IN_CI) throw new Error(why);
  return why;
}

export async function launch(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
}

export interface Tab {
  context: BrowserContext;
  page: Page;
  /** CSP violations and uncaught page errors seen so far. */
  problems: string[];
}

export async function openTab(browser: Browser, colorScheme: 'light' | 'dark' = 'light'): Promise<Tab> {
  const context = await browser.newContext({ colorScheme, viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const problems: string[] = [];
  page.on('pageerror', (err) => problems.push(`page error: ${err.message}`));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && /Content Security Policy|Refused to/i.test(msg.text())) problems.push(`csp: ${msg.text()}`);
  });
  await context.addInitScript({ content: "document.addEventListener('securitypolicyviolation', (e) => console.error('Refused to (CSP) ' + e.violatedDirective + ' ' + e.blockedURI));" });
  return { context, page, problems };
}

/** axe-core's serious and critical violations on the page as it is now (WCAG 2.1 A and AA rules). */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page }).withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'best-practice']).analyze();
  return result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.impact} ${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).slice(0, 3).join('; ')})`);
}

export async function screenshot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}
