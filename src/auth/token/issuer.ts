// Issues the built-in token server's JWTs: short-lived access tokens carrying the Docker
// `access` claim, and refresh tokens (OAuth2 `access_type=offline`) that name only the subject.
import { randomUUID } from 'node:crypto';
import { SignJWT, jwtVerify } from 'jose';
import type { Access } from '../scope.js';
import type { SigningKey } from './keys.js';
import { CREDENTIAL_CLAIM } from './revocation.js';

export interface IssuerOptions {
  key: SigningKey;
  issuer: string;
  service: string;
  expiresInSec: number;
  refreshExpiresInSec: number;
  now?: () => Date;
}

export interface IssuedToken { token: string; expiresIn: number; issuedAt: string }

const REFRESH_AUDIENCE_SUFFIX = '#refresh';

export class TokenIssuer {
  constructor(readonly options: IssuerOptions) {}

  /** `credential`: the subject's credential stamp (revocation.ts), absent for anonymous tokens. */
  async accessToken(subject: string, access: Access[], credential?: string): Promise<IssuedToken> {
    const now = this.#now();
    const iat = Math.floor(now.getTime() / 1000);
    const token = await new SignJWT({ access, ...(credential ? { [CREDENTIAL_CLAIM]: credential } : {}) })
      .setProtectedHeader({ alg: this.options.key.alg, kid: this.options.key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer).setSubject(subject).setAudience(this.options.service)
      .setIssuedAt(iat).setNotBefore(iat - 1).setExpirationTime(iat + this.options.expiresInSec).setJti(randomUUID())
      .sign(this.options.key.privateKey);
    return { token, expiresIn: this.options.expiresInSec, issuedAt: now.toISOString() };
  }

  async refreshToken(subject: string, credential?: string): Promise<string> {
    const iat = Math.floor(this.#now().getTime() / 1000);
    return new SignJWT(credential ? { [CREDENTIAL_CLAIM]: credential } : {})
      .setProtectedHeader({ alg: this.options.key.alg, kid: this.options.key.kid, typ: 'JWT' })
      .setIssuer(this.options.issuer).setSubject(subject).setAudience(this.options.service + REFRESH_AUDIENCE_SUFFIX)
      .setIssuedAt(iat).setExpirationTime(iat + this.options.refreshExpiresInSec).setJti(randomUUID())
      .sign(this.options.key.privateKey);
  }

  /** The subject and credential stamp of a valid refresh token, or undefined. */
  async refreshClaims(token: string): Promise<{ subject: string; credential: string | undefined } | undefined> {
    try {
      const { payload } = await jwtVerify(token, this.options.key.publicKey, {
        issuer: this.options.issuer, audience: this.options.service + REFRESH_AUDIENCE_SUFFIX,
        algorithms: [this.options.key.alg], currentDate: this.#now(),
      });
      const credential = payload[CREDENTIAL_CLAIM];
      return payload.sub === undefined ? undefined : { subject: payload.sub, credential: typeof credential === 'string' ? credential : undefined };
    } catch {
      return undefined;
    }
  }

  #now(): Date {
    return this.options.now?.() ?? new Date();
  }
}
