// Verifies bearer tokens the way CNCF Distribution does: signature by a trusted key (the built-in
// server's, a certificate of `rootcertbundle`, a key reached through the token's x5c chain to
// one of those certificates, or a JWKS), then issuer, audience (service) and time.
import { X509Certificate, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createLocalJWKSet, createRemoteJWKSet, errors, jwtVerify, type JWTVerifyGetKey, type JSONWebKeySet } from 'jose';

type GetKeyArgs = Parameters<JWTVerifyGetKey>;
type VerifyKey = Awaited<ReturnType<JWTVerifyGetKey>>;
import type { Access } from '../scope.js';
import { libtrustKeyId } from './keys.js';
import { CREDENTIAL_CLAIM } from './revocation.js';

export interface VerifierOptions {
  issuer: string;
  service: string;
  /** Keys trusted directly (the built-in server's). */
  keys?: KeyObject[];
  rootCertBundle?: string;
  jwks?: string;
  now?: () => Date;
}

export type VerifyResult =
  /** `credential`: the built-in server's stamp of the subject's credential (revocation.ts). */
  | { ok: true; subject: string; issuer: string; access: Access[]; credential?: string }
  | { ok: false; reason: string };

export class TokenVerifier {
  readonly #byKid = new Map<string, KeyObject>();
  readonly #roots: X509Certificate[] = [];
  readonly #jwks: JWTVerifyGetKey | undefined;

  constructor(private readonly options: VerifierOptions) {
    for (const key of options.keys ?? []) this.#byKid.set(libtrustKeyId(key), key);
    if (options.rootCertBundle) {
      for (const pem of readFileSync(options.rootCertBundle, 'utf8').match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? []) {
        const cert = new X509Certificate(pem);
        this.#roots.push(cert);
        this.#byKid.set(libtrustKeyId(cert.publicKey), cert.publicKey);
      }
      if (this.#roots.length === 0) throw new Error(`auth.token.rootcertbundle ${options.rootCertBundle} holds no certificate`);
    }
    if (options.jwks) {
      this.#jwks = /^https?:\/\//.test(options.jwks)
        ? createRemoteJWKSet(new URL(options.jwks))
        : createLocalJWKSet(JSON.parse(readFileSync(options.jwks, 'utf8')) as JSONWebKeySet);
    }
  }

  async verify(token: string): Promise<VerifyResult> {
    try {
      const { payload } = await jwtVerify(token, (header, jws) => this.#keyFor(header, jws), {
        issuer: this.options.issuer, audience: this.options.service, currentDate: this.options.now?.() ?? new Date(),
        algorithms: ['ES256', 'ES384', 'ES512', 'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'EdDSA'],
        requiredClaims: ['exp'],
      });
      const credential = payload[CREDENTIAL_CLAIM];
      return { ok: true, subject: payload.sub ?? '', issuer: payload.iss ?? '', access: accessClaim(payload.access), ...(typeof credential === 'string' ? { credential } : {}) };
    } catch (err) {
      if (err instanceof errors.JWTExpired) return { ok: false, reason: 'token expired' };
      if (err instanceof errors.JWTClaimValidationFailed) return { ok: false, reason: `token claim ${err.claim} invalid` };
      if (err instanceof errors.JWSSignatureVerificationFailed) return { ok: false, reason: 'token signature invalid' };
      return { ok: false, reason: `token invalid: ${(err as Error).message}` };
    }
  }

  async #keyFor(header: GetKeyArgs[0], jws: GetKeyArgs[1]): Promise<VerifyKey> {
    if (header.x5c && header.x5c.length > 0) return this.#keyFromChain(header.x5c);
    if (header.kid) {
      const key = this.#byKid.get(header.kid);
      if (key) return key;
    }
    if (this.#jwks) return this.#jwks(header, jws);
    throw new Error('token signed by an unknown key');
  }

  /** The leaf's key, if its chain ends at (or is) a root of the bundle, each link signed by the next. */
  #keyFromChain(x5c: string[]): KeyObject {
    const chain = x5c.map((b64) => new X509Certificate(Buffer.from(b64, 'base64')));
    const now = this.options.now?.() ?? new Date();
    for (const cert of chain) {
      if (Date.parse(cert.validFrom) > now.getTime() || Date.parse(cert.validTo) < now.getTime()) throw new Error('certificate in x5c is not valid now');
    }
    for (let i = 0; i + 1 < chain.length; i++) {
      if (!chain[i]!.checkIssued(chain[i + 1]!) || !chain[i]!.verify(chain[i + 1]!.publicKey)) throw new Error('x5c chain is broken');
    }
    const top = chain[chain.length - 1]!;
    const trusted = this.#roots.some((root) => root.fingerprint256 === top.fingerprint256 || (top.checkIssued(root) && top.verify(root.publicKey)));
    if (!trusted) throw new Error('x5c chain does not lead to a certificate of the root bundle');
    return createPublicKey(chain[0]!.publicKey.export({ type: 'spki', format: 'pem' }));
  }
}

function accessClaim(value: unknown): Access[] {
  if (!Array.isArray(value)) return [];
  return value.flatMap((v: unknown) => {
    const a = v as Partial<Access>;
    if (typeof a?.type !== 'string' || typeof a.name !== 'string' || !Array.isArray(a.actions)) return [];
    return [{ type: a.type, name: a.name, actions: a.actions.filter((x): x is string => typeof x === 'string') }];
  });
}
