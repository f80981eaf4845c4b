// Keyboard-only checks: walking a page with Tab must reach every control a mouse could use, each
// with a visible focus ring, and `tabUntil` moves focus by Tab alone to a named control. (The
// scripts run in the page, passed as text: the tests are compiled without the DOM's types.)
import type { Page } from 'playwright-core';

const MARK = `(() => {
  const selector = 'a[href], button:not([disabled]), input:not([disabled]), select:not([disabled]), textarea:not([disabled]), summary, [tabindex]:not([tabindex="-1"])';
  // What a mouse could use now: shown, and not inside a closed <details> (its summary is).
  const shown = (el) => { const d = el.closest('details'); return el.getClientRects().length > 0 && (!d || d.open || el.parentElement === d); };
  const els = [...document.querySelectorAll(selector)].filter(shown);
  return els.map((el, i) => {
    el.dataset.kw = String(i);
    return el.tagName.toLowerCase() + ' "' + (el.getAttribute('aria-label') || el.textContent || el.id || '').trim().slice(0, 40) + '"';
  });
})()`;

const FOCUSED = `(() => {
  const el = document.activeElement;
  if (!el || el === document.body) return undefined;
  const style = getComputedStyle(el);
  return { kw: el.dataset.kw, ringed: style.outlineStyle !== 'none' && style.outlineWidth !== '0px' };
})()`;

const LABEL = `(() => {
  const el = document.activeElement;
  if (!el) return '';
  const labelled = el.id ? document.querySelector('label[for="' + el.id + '"]')?.textContent : undefined;
  return (el.getAttribute('aria-label') || labelled || el.textContent || '').trim();
})()`;

/** Moves focus back to the start of the page. */
export async function resetFocus(page: Page): Promise<void> {
  await page.evaluate('document.activeElement && document.activeElement.blur && document.activeElement.blur()');
}

/**
 * Tabs through the whole page once (until focus comes back to the first control); returns the
 * controls Tab never reached and those it reached without a visible focus ring. A composite
 * input (a date and time) takes several presses; they count once.
 */
export async function tabWalk(page: Page): Promise<{ missed: string[]; unringed: string[]; reached: number }> {
  const all = await page.evaluate<string[]>(MARK);
  await resetFocus(page);
  const reached = new Set<string>();
  const unringed: string[] = [];
  let first: string | undefined;
  for (let i = 0; i < all.length * 2 + 40; i++) {
    await page.keyboard.press('Tab');
    const at = await page.evaluate<{ kw?: string; ringed: boolean } | undefined>(FOCUSED);
    if (!at?.kw) continue;
    if (first === undefined) first = at.kw;
    else if (at.kw === first) break;
    if (reached.has(at.kw)) continue;
    reached.add(at.kw);
    if (!at.ringed) unringed.push(all[Number(at.kw)]!);
  }
  return { missed: all.filter((_, i) => !reached.has(String(i))), unringed, reached: reached.size };
}

/** Presses Tab until the focused element's label (aria-label, its <label>, or text) is `name`; fails after `max` presses. */
export async function tabUntil(page: Page, name: string | RegExp, max = 80): Promise<void> {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press('Tab');
    const label = await page.evaluate<string>(LABEL);
    if (typeof name === 'string' ? label === name : name.test(label)) return;
  }
  throw new Error(`Tab never reached "${String(name)}" in ${max} presses`);
}

/** The focused element's label, as tabUntil reads it. */
export function focusedLabel(page: Page): Promise<string> {
  return page.evaluate<string>(LABEL);
}
