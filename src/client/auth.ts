// Answers registry auth challenges. Basic: the credentials go on every request once the
// registry asked for them. Bearer (Docker token spec): one token per (realm, service, scope set),
// fetched from the realm with the credentials (or anonymously) and cached until it expires.
import type { Challenge } from './challenge.js';

export interface Credentials {
  username: string;
  password: string;
}

/** Finds credentials for a registry host (flags, docker config.json, credential helpers). */
export type CredentialLookup = (host: string) => Promise<Credentials | undefined>;

/** Fetches a URL for the token exchange (the client passes its own TLS-aware transport). */
export type TokenFetch = (url: string, headers: Record<string, string>) => Promise<{ status: number; body: string }>;

interface CachedToken {
  token: string;
  expiresAt: number;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

export function basicHeader(c: Credentials): string {
  return `Basic ${Buffer.from(`${c.username}:${c.password}`).toString('base64')}`;
}

export class Authenticator {
  readonly #host: string;
  readonly #lookup: CredentialLookup;
  readonly #fetch: TokenFetch;
  readonly #now: () => number;
  /** The challenge the registry last gave: how to authenticate from now on. */
  #challenge: Challenge | undefined;
  #tokens = new Map<string, CachedToken>();
  #credentials: Promise<Credentials | undefined> | undefined;
  tokenFetches = 0;

  constructor(host: string, lookup: CredentialLookup, fetch: TokenFetch, now: () => number = Date.now) {
    this.#host = host;
    this.#lookup = lookup;
    this.#fetch = fetch;
    this.#now = now;
  }

  get scheme(): string | undefined {
    return this.#challenge?.scheme;
  }

  credentials(): Promise<Credentials | undefined> {
    this.#credentials ??= this.#lookup(this.#host);
    return this.#credentials;
  }

  /** Learns how the registry wants to be spoken to, from a 401's challenges. */
  learn(challenges: Challenge[]): boolean {
    const chosen = challenges.find((c) => c.scheme === 'bearer') ?? challenges.find((c) => c.scheme === 'basic');
    if (!chosen) return false;
    this.#challenge = chosen;
    return true;
  }

  /** Forgets a cached token (it was refused) so the next header fetches a new one. */
  invalidate(scopes: string[]): void {
    if (this.#challenge) this.#tokens.delete(this.#key(this.#challenge, scopes));
  }

  /** The Authorization header for a request needing `scopes`, or undefined before any challenge. */
  async header(scopes: string[]): Promise<string | undefined> {
    const challenge = this.#challenge;
    if (!challenge) return undefined;
    if (challenge.scheme === 'basic') {
      const creds = await this.credentials();
      return creds ? basicHeader(creds) : undefined;
    }
    const key = this.#key(challenge, scopes);
    const cached = this.#tokens.get(key);
    if (cached && cached.expiresAt > this.#now()) return `Bearer ${cached.token}`;
    const token = await this.#fetchToken(challenge, scopes);
    this.#tokens.set(key, token);
    return `Bearer ${token.token}`;
  }

  #key(challenge: Challenge, scopes: string[]): string {
    return [challenge.params.realm, challenge.params.service, ...[...scopes].sort()].join('|');
  }

  async #fetchToken(challenge: Challenge, scopes: string[]): Promise<CachedToken> {
    const realm = challenge.params.realm;
    if (!realm) throw new AuthError(`${this.#host} sent a Bearer challenge without a realm`);
    const url = new URL(realm);
    if (challenge.params.service) url.searchParams.set('service', challenge.params.service);
    const wanted = new Set(scopes);
    if (challenge.params.scope) for (const s of challenge.params.scope.split(' ')) wanted.add(s);
    for (const s of wanted) url.searchParams.append('scope', s);
    const creds = await this.credentials();
    const headers: Record<string, string> = creds ? { authorization: basicHeader(creds) } : {};
    this.tokenFetches++;
    const res = await this.#fetch(url.toString(), headers);
    if (res.status !== 200) {
      throw new AuthError(`token server ${url.origin}${url.pathname} answered ${res.status}${creds ? ` for user ${creds.username}` : ' (anonymous)'}: ${res.body.slice(0, 200)}`);
    }
    let doc: { token?: unknown; access_token?: unknown; expires_in?: unknown; issued_at?: unknown };
    try {
      doc = JSON.parse(res.body) as typeof doc;
    } catch {
      throw new AuthError(`token server ${url.origin} answered with something that is not JSON`);
    }
    const token = typeof doc.token === 'string' ? doc.token : typeof doc.access_token === 'string' ? doc.access_token : undefined;
    if (!token) throw new AuthError(`token server ${url.origin} answered without a token`);
    // The spec's default lifetime is 60 s; renew 10 s early so a token never expires in flight.
    const lifetime = typeof doc.expires_in === 'number' && doc.expires_in > 0 ? doc.expires_in : 60;
    const issued = typeof doc.issued_at === 'string' ? Date.parse(doc.issued_at) : NaN;
    const start = Number.isFinite(issued) ? Math.min(issued, this.#now()) : this.#now();
    return { token, expiresAt: start + Math.max(lifetime - 10, 1) * 1000 };
  }
}
