// The console's one way to the server: the registry API (/v2), the read and admin APIs (/api/v1)
// and its own session routes, all on this origin with the session cookie (never a token in
// script-readable storage). Every call says it is the console's (no Basic dialog on a 401), and
// every change carries the session's anti-forgery token.
export interface SessionView {
  mode: 'basic' | 'token' | 'open';
  /** Where to send the browser to sign in with OpenID Connect, when the registry has a provider. */
  oidcLogin?: string;
  identity: { kind: string; name: string; admin: boolean } | null;
  csrf?: string;
  expiresAt?: number;
  idleUntil?: number;
  deleteEnabled: boolean;
  readOnly: boolean;
}

export class ApiError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) { super(message); }
}

/** http.prefix, as the server wrote it into the page. */
export const PREFIX = document.querySelector('meta[name="berth-prefix"]')?.getAttribute('content') ?? '';
/** The console's root path with a trailing slash (the page's <base>). */
export const ROOT = new URL(document.baseURI).pathname;

let csrf: string | undefined;
let onSignedOut: (() => void) | undefined;

export function rememberSession(view: SessionView): void {
  csrf = view.csrf;
}

/** Called when the server no longer knows the session (expired, signed out elsewhere). */
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

export interface CallOptions {
  method?: string;
  body?: unknown;
  query?: Record<string, string | number | boolean | undefined>;
  accept?: string;
}

/** A JSON call; `path` is absolute on this origin. */
export async function call<T>(path: string, options: CallOptions = {}): Promise<T> {
  const res = await raw(path, options);
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  return (text === '' ? undefined : JSON.parse(text)) as T;
}

export async function raw(path: string, options: CallOptions = {}): Promise<Response> {
  const method = options.method ?? 'GET';
  const headers: Record<string, string> = { 'X-Berth-Console': '1', Accept: options.accept ?? 'application/json' };
  if (method !== 'GET' && method !== 'HEAD' && csrf) headers['X-Berth-CSRF'] = csrf;
  if (options.body !== undefined) headers['Content-Type'] = 'application/json';
  const url = new URL(path, location.origin);
  for (const [k, v] of Object.entries(options.query ?? {})) if (v !== undefined && v !== '') url.searchParams.set(k, String(v));
  const res = await fetch(url, { method, headers, credentials: 'same-origin', ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
  if (res.ok) return res;
  let code = 'UNKNOWN';
  let message = `${res.status} ${res.statusText}`;
  try {
    const body = await res.json() as { errors?: Array<{ code: string; message: string }> };
    const first = body.errors?.[0];
    if (first) { code = first.code; message = first.message; }
  } catch { /* not JSON: the status says enough */ }
  if (res.status === 401 && csrf !== undefined && !path.endsWith('/auth/session')) {
    csrf = undefined;
    onSignedOut?.();
  }
  throw new ApiError(res.status, code, message);
}

export const session = {
  get: () => call<SessionView>(`${ROOT}auth/session`),
  signIn: (user: string, password: string) => call<SessionView>(`${ROOT}auth/session`, { method: 'POST', body: { user, password } }),
  signOut: () => call<void>(`${ROOT}auth/session`, { method: 'DELETE' }),
};

/** /api/v1 path. */
export function apiPath(path: string): string {
  return `${PREFIX}/api/v1${path}`;
}

/** /v2 path. */
export function v2Path(path: string): string {
  return `${PREFIX}/v2${path}`;
}

/** A repository name as a path (its slashes kept, each component encoded). */
export function namePath(name: string): string {
  return name.split('/').map(encodeURIComponent).join('/');
}
