// Users of an OpenID Connect provider (Keycloak, Dex, Entra ID, Google, GitLab, ...), signed in
// to the console with the authorization code flow and PKCE (openid-client): the provider is
// found by discovery, the state and nonce the browser carried back are checked, and the ID
// token is verified against the provider's keys. The user name and groups come from the
// configured claims (the ID token, else userinfo); groups map to project roles and
// administrator; only verified emails of the allowed domains get in. Docker and the other
// clients cannot do this flow: those users make personal access tokens in the console. Between
// sign-ins, a user is judged as of its last sign-in (the provider cannot be asked without it).
import { readFileSync } from 'node:fs';
import * as oidc from 'openid-client';
import { Agent, fetch as undiciFetch } from 'undici';
import type { OidcConfig } from '../../config/sections/directories.js';
import type { ExternalDirectory, ExternalUserStore } from '../external-users.js';
import { identityOf } from '../external-users.js';
import type { UserIdentity } from '../identity.js';
import { GroupMapping } from './group-roles.js';
import { OidcRefusal } from './oidc-refusal.js';

/** What the browser carries from the start of a sign-in to the callback (in an HttpOnly cookie). */
export interface OidcPending { state: string; nonce: string; verifier: string; redirect: string }

export { OidcRefusal } from './oidc-refusal.js';

export class OidcDirectory implements ExternalDirectory {
  readonly source = 'oidc' as const;
  readonly #mapping: GroupMapping;
  readonly #secret: string | undefined;
  readonly #fetch: oidc.CustomFetch | undefined;
  #discovered: Promise<oidc.Configuration> | undefined;

  constructor(private readonly config: OidcConfig, private readonly users: ExternalUserStore) {
    this.#mapping = new GroupMapping(config.groups, config.admins);
    this.#secret = config.clientsecretfile !== undefined ? readSecretFile(config.clientsecretfile) : config.clientsecret;
    if (config.ca !== undefined) {
      const dispatcher = new Agent({ connect: { ca: readSecretFile(config.ca, 'auth.oidc.ca') } });
      this.#fetch = ((url: string, options: oidc.CustomFetchOptions) => undiciFetch(url, { ...options, dispatcher } as never)) as unknown as oidc.CustomFetch;
    }
  }

  /** The callback URL the provider was told of (auth.oidc.redirecturl), if configured. */
  get redirectUrl(): string | undefined {
    return this.config.redirecturl;
  }

  /** As of the user's last sign-in here; undefined when it never signed in. */
  async lookup(name: string): Promise<UserIdentity | undefined> {
    const seen = await this.users.get(name);
    return seen?.source === 'oidc' ? identityOf(seen) : undefined;
  }

  /** For /readyz: the provider's discovery document (and so its keys' location) can be read. */
  async check(): Promise<void> {
    await this.#configuration();
  }

  /** Where to send the browser to sign in, and what it must bring back. `redirect`: our callback URL. */
  async start(redirect: string): Promise<{ url: string; pending: OidcPending }> {
    const configuration = await this.#configuration();
    const pending = { state: oidc.randomState(), nonce: oidc.randomNonce(), verifier: oidc.randomPKCECodeVerifier(), redirect };
    const url = oidc.buildAuthorizationUrl(configuration, {
      redirect_uri: redirect, scope: this.config.scopes.join(' '), state: pending.state, nonce: pending.nonce,
      code_challenge: await oidc.calculatePKCECodeChallenge(pending.verifier), code_challenge_method: 'S256',
    });
    return { url: url.href, pending };
  }

  /** The user the provider's answer (`callback`: the URL it redirected the browser to) proves. Throws OidcRefusal for a user not let in. */
  async finish(callback: URL, pending: OidcPending): Promise<UserIdentity> {
    const configuration = await this.#configuration();
    const tokens = await oidc.authorizationCodeGrant(configuration, callback, {
      pkceCodeVerifier: pending.verifier, expectedState: pending.state, expectedNonce: pending.nonce, idTokenExpected: true,
    });
    let claims: Record<string, unknown> = { ...tokens.claims() };
    if (claims[this.config.usernameclaim] === undefined || claims[this.config.groupsclaim] === undefined || claims.email === undefined) {
      const info = await oidc.fetchUserInfo(configuration, tokens.access_token, claims.sub as string);
      claims = { ...info, ...claims };
    }
    const name = claims[this.config.usernameclaim];
    if (typeof name !== 'string' || name === '') throw new OidcRefusal(`the provider gave no ${this.config.usernameclaim} claim`);
    if (this.config.alloweddomains.length > 0) {
      const email = typeof claims.email === 'string' ? claims.email : '';
      const domain = email.slice(email.lastIndexOf('@') + 1).toLowerCase();
      if (!email.includes('@') || claims.email_verified !== true || !this.config.alloweddomains.some((d) => d.toLowerCase() === domain)) {
        throw new OidcRefusal(`${name}: no verified email in an allowed domain`);
      }
    }
    const raw = claims[this.config.groupsclaim];
    const groups = Array.isArray(raw) ? raw.filter((g): g is string => typeof g === 'string') : typeof raw === 'string' ? [raw] : [];
    const { admin, roles } = this.#mapping.grants(groups);
    return { kind: 'user', name, admin, source: 'oidc', roles };
  }

  /** The provider's metadata, discovered once (again after a failure). */
  #configuration(): Promise<oidc.Configuration> {
    this.#discovered ??= this.#discover().catch((err: unknown) => {
      this.#discovered = undefined;
      throw new Error(`OpenID provider ${this.config.issuer}: ${(err as Error).message}`, { cause: err });
    });
    return this.#discovered;
  }

  async #discover(): Promise<oidc.Configuration> {
    const issuer = new URL(this.config.issuer);
    const options: oidc.DiscoveryRequestOptions = {
      timeout: Math.max(1, Math.round(this.config.timeout / 1000)),
      // A plain-http issuer (a test provider on loopback) has to be allowed explicitly.
      ...(issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : {}),
      ...(this.#fetch ? { [oidc.customFetch]: this.#fetch } : {}),
    };
    const configuration = await oidc.discovery(issuer, this.config.clientid, this.#secret, undefined, options);
    if (this.#fetch) configuration[oidc.customFetch] = this.#fetch;
    return configuration;
  }
}

function readSecretFile(path: string, key = 'auth.oidc.clientsecretfile'): string {
  try {
    return readFileSync(path, 'utf8').replace(/\r?\n$/, '');
  } catch (err) {
    throw new Error(`${key}: cannot read ${path}: ${(err as Error).message}`);
  }
}
