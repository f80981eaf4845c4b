// Pages are paths under the console's root (history navigation, no hash): a link is a real
// link (open in a new tab, copy its address), and a click on it is handled here.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ROOT } from './api.js';

const listeners = new Set<() => void>();

/** The current page's path after the console's root, without leading slash, and its query. */
export function current(): { path: string; query: URLSearchParams } {
  const path = location.pathname.startsWith(ROOT) ? location.pathname.slice(ROOT.length) : '';
  return { path: decodeURIComponent(path), query: new URLSearchParams(location.search) };
}

export function href(path: string, query?: Record<string, string | undefined>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query ?? {})) if (v) q.set(k, v);
  const s = q.toString();
  return `${ROOT}${path.split('/').map(encodeURIComponent).join('/')}${s ? `?${s}` : ''}`;
}

export function navigate(to: string, replace = false): void {
  if (replace) history.replaceState(null, '', to);
  else history.pushState(null, '', to);
  for (const l of listeners) l();
  if (!replace) window.scrollTo(0, 0);
}

export function useRoute(): { path: string; query: URLSearchParams } {
  const [, setTick] = useState(0);
  useEffect(() => {
    const update = () => setTick((t) => t + 1);
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => { listeners.delete(update); window.removeEventListener('popstate', update); };
  }, []);
  return current();
}

export function Link(props: { to: string; children: ComponentChildren; class?: string; 'aria-current'?: 'page' | undefined; title?: string }) {
  const onClick = (e: MouseEvent) => {
    if (e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    navigate(props.to);
  };
  return <a href={props.to} class={props.class} onClick={onClick} aria-current={props['aria-current']} title={props.title}>{props.children}</a>;
}
