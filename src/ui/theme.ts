// Light and dark themes: the system's choice until the user picks one (kept in this browser; a
// preference, never a credential).
export type Theme = 'light' | 'dark';
const KEY = 'berth-theme';

export function initialTheme(): Theme {
  const saved = localStorage.getItem(KEY);
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

export function applyTheme(theme: Theme, save = false): void {
  document.documentElement.dataset.theme = theme;
  if (save) localStorage.setItem(KEY, theme);
}
