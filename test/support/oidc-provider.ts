// Starts the OpenID provider of oidc-provider-main.ts in its own process, and drives its
// authorization code flow the way a browser would (plain HTTP, redirects followed by hand,
// cookies kept), without a browser.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseSetCookie } from 'cookie';
import { stopChild, tail, track } from '../e2e/support/env.js';

export interface OidcAccount { preferred_username: string; email: string; email_verified: boolean; groups: string[] }

export interface OidcProvider {
  issuer: string;
  /** Replaces the accounts (by account id); the next sign-in sees them. */
  setAccounts(accounts: Record<string, OidcAccount>): void;
  stop(): Promise<void>;
}

export async function startOidcProvider(dir: string, client: { id: string; secret: string; redirect: string }, accounts: Record<string, OidcAccount>): Promise<OidcProvider> {
  const file = join(dir, 'accounts.json');
  const setAccounts = (a: Record<string, OidcAccount>) => writeFileSync(file, JSON.stringify(a));
  setAccounts(accounts);
  const main = fileURLToPath(new URL('./oidc-provider-main.js', import.meta.url));
  const clientJson = JSON.stringify({
    client_id: client.id, client_secret: client.secret, redirect_uris: [client.redirect],
    grant_types: ['authorization_code'], response_types: ['code'], token_endpoint_auth_method: 'client_secret_basic',
  });
  const child: ChildProcess = track(spawn(process.execPath, [main, file, clientJson], { stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  const issuer = await new Promise<string>((resolve, reject) => {
    let out = '';
    child.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const line = out.split('\n')[0];
      if (out.includes('\n') && line) resolve((JSON.parse(line) as { issuer: string }).issuer);
    });
    child.once('exit', (code) => reject(new Error(`the OpenID provider exited (${code}):\n${log.text()}`)));
  });
  return { issuer, setAccounts, stop: () => stopChild(child, 'SIGTERM', 5000) };
}

/** A browser's cookies, by name (the registry's and the provider's names do not meet). */
export class CookieJar {
  readonly #cookies = new Map<string, string>();

  take(res: Response): void {
    for (const header of res.headers.getSetCookie()) {
      const c = parseSetCookie(header);
      if (!c.value || c.maxAge === 0) this.#cookies.delete(c.name);
      else this.#cookies.set(c.name, c.value);
    }
  }

  header(): string {
    return [...this.#cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }

  get(name: string): string | undefined {
    return this.#cookies.get(name);
  }
}

export interface FlowEnd { status: number; url: string; body: string; jar: CookieJar }

/**
 * From `start` (the console's sign-in link) through the provider's login (as `login`) and
 * consent pages, following redirects, to the first answer that is not a redirect nor a
 * provider page (the console after the callback, or a refusal).
 */
export async function signInFlow(start: string, login: string, jar = new CookieJar()): Promise<FlowEnd> {
  let url = start;
  let init: RequestInit = {};
  for (let step = 0; step < 20; step++) {
    const res = await fetch(url, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string> | undefined), cookie: jar.header() } });
    jar.take(res);
    const body = await res.text();
    const location = res.headers.get('location');
    if (res.status >= 300 && res.status < 400 && location) {
      url = new URL(location, url).href;
      init = {};
      continue;
    }
    // The provider's development pages: a login form (any name signs in), then consent.
    if (res.status === 200 && new URL(url).pathname.startsWith('/interaction/')) {
      const form: Record<string, string> = body.includes('name="login"') ? { prompt: 'login', login, password: 'any' } : { prompt: 'consent' };
      init = { method: 'POST', body: new URLSearchParams(form).toString(), headers: { 'content-type': 'application/x-www-form-urlencoded' } };
      continue;
    }
    return { status: res.status, url, body, jar };
  }
  throw new Error(`the sign-in did not end after 20 steps (at ${url})`);
}
