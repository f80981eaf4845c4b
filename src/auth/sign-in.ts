// Signing in, the same way for the registry API, the token server and the admin API: a password
// attempt is counted by the failed-login limiter before any bcrypt runs (rate-limit.ts), then the
// authenticator chain decides, and a refusal is told to `onFailure` (the audit log). Bearer
// tokens are not passwords: they are neither counted nor audited as failed logins.
import type { Authentication, Authenticator } from './authenticator.js';
import type { Credentials } from './credentials.js';
import type { Identity } from './identity.js';
import type { FailedLoginLimiter } from './rate-limit.js';

export type SignInResult = Authentication | { ok: false; reason: 'rate-limited'; retryAfter: number };

export class SignIn {
  constructor(readonly authenticator: Authenticator, private readonly limiter: FailedLoginLimiter) {}

  /** Told of every refused password sign-in (never the secret), before `check` answers. */
  onFailure: ((user: string, address: string, reason: string) => Promise<void>) | undefined;

  /** Told of every sign-in an external directory checked (not answered from its cache). */
  onDirectorySignIn: ((identity: Identity, address: string) => Promise<void>) | undefined;

  /** The verdict on `credentials`; bearer tokens no authenticator accepts are refused as invalid. */
  async check(credentials: Credentials, address: string): Promise<SignInResult> {
    if (credentials.kind !== 'basic') return (await this.authenticator.authenticate(credentials)) ?? { ok: false, reason: 'bearer tokens are not accepted here' };
    const { user } = credentials;
    const reservation = await this.limiter.reserve(user, address);
    if (!reservation.ok) {
      await this.onFailure?.(user, address, 'rate-limited');
      return { ok: false, reason: 'rate-limited', retryAfter: reservation.retryAfter };
    }
    const result = (await this.authenticator.authenticate(credentials)) ?? { ok: false, reason: 'invalid' };
    if (result.ok) {
      await this.limiter.succeeded(user, address, reservation);
      if (result.directory) await this.onDirectorySignIn?.(result.identity, address);
    }
    else await this.onFailure?.(user, address, result.reason);
    return result;
  }

  /**
   * A sign-in checked elsewhere (an OpenID Connect callback), counted by the same limiter under
   * `user`: `run` resolving is a success, throwing a failure (rethrown). A full counter answers
   * `rate-limited` without running it.
   */
  async attempt<T>(user: string, address: string, run: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; retryAfter: number }> {
    const reservation = await this.limiter.reserve(user, address);
    if (!reservation.ok) {
      await this.onFailure?.(user, address, 'rate-limited');
      return { ok: false, retryAfter: reservation.retryAfter };
    }
    const value = await run();
    await this.limiter.succeeded(user, address, reservation);
    return { ok: true, value };
  }

  /** A Basic user name and password: the registry's own tools and tests sign in this way. */
  password(user: string, password: string, address: string): Promise<SignInResult> {
    return this.check({ kind: 'basic', user, password }, address);
  }
}
