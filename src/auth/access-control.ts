// Access control of the registry API: credentials, the access a request needs and the facts of
// the request in, a grant or a refusal (the spec's error code, its detail and the challenge
// clients expect) out. Here live the rules: which access a route's declared action needs, the
// stored-name rule (a pull served from another stored repository needs pull on that one too),
// and the mount rule (a cross-repository mount needs pull on its source, else it becomes a
// plain upload). The HTTP layer only reads the request, calls `admit` and writes the answer.
import type { ErrorCode } from '../errors/index.js';
import { isValidName } from '../oci/reference.js';
import type { Authorizer } from './authorizer.js';
import { claimedName, type Credentials } from './credentials.js';
import { ANONYMOUS, identityName, type Identity } from './identity.js';
import { covers, formatScope, type Access } from './scope.js';
import type { SignIn } from './sign-in.js';
import type { Subjects } from './subjects.js';

/**
 * Other repositories a pull of `name` (with containerd's `?ns=`) reads, that the caller needs
 * pull rights on as well: a feature serving a name from another stored one (the pull-through
 * cache) passes it, so access control sees the name the data really lives under.
 */
export type AlsoRequired = (name: string, ns: string | undefined) => Promise<string[]>;

/** What access control needs of the auth service (service.ts). */
export interface AccessControlDeps {
  mode: 'basic' | 'token' | 'open';
  realm: string;
  service: string;
  signIn: SignIn;
  authorizer: Authorizer;
  /** What built-in tokens' subjects stand for now. */
  subjects: Subjects;
  issuer: { options: { issuer: string } } | undefined;
}

/** The facts of one registry API request. */
export interface AccessRequest {
  /** What the route table declares for this method: its action and, unless registry-wide, the repository. Undefined: nothing but a sign-in. */
  declared: { action: string; repository: string | undefined } | undefined;
  /** The client's address (after trusted proxies). */
  address: string;
  /** containerd's `?ns=`. */
  ns: string | undefined;
  /** The source repository of a cross-repository mount (`POST ?mount=&from=`). */
  mountFrom: string | undefined;
  /** This server's token endpoint as the client reached it: the realm of Bearer challenges unless one is configured. */
  tokenServer: string;
}

export interface Refusal {
  code: Extract<ErrorCode, 'UNAUTHORIZED' | 'DENIED' | 'TOOMANYREQUESTS'>;
  detail: unknown;
  /** WWW-Authenticate (the challenge) or Retry-After. */
  headers: Record<string, string>;
  /** The fields of the `access refused` log line; none when the refusal is routine (a challenge to sign in). */
  log?: Record<string, unknown>;
}

export type Admission =
  /** `mount`: false when a requested mount must become a plain upload (no pull right on its source). */
  | { ok: true; identity: Identity; mount: boolean }
  /** `identity`: who signed in before the refusal, if anyone did. */
  | { ok: false; identity: Identity | undefined; refusal: Refusal };

export class AccessControl {
  constructor(private readonly auth: AccessControlDeps, private readonly alsoRequired?: AlsoRequired) {}

  async admit(credentials: Credentials | undefined, req: AccessRequest): Promise<Admission> {
    if (this.auth.mode === 'open') return { ok: true, identity: ANONYMOUS, mount: true };
    const required = requiredAccess(req.declared);
    const signedIn = await this.#authenticate(credentials, req, required);
    if (!signedIn.ok) return { ok: false, identity: undefined, refusal: signedIn.refusal };
    return this.admitIdentity(signedIn.identity, req);
  }

  /** The verdict for a caller already known (a console session): the same rules as `admit`, without a sign-in. */
  async admitIdentity(identity: Identity, req: AccessRequest): Promise<Admission> {
    if (this.auth.mode === 'open') return { ok: true, identity: ANONYMOUS, mount: true };
    const required = requiredAccess(req.declared);
    const refuse = (refusal: Refusal): Admission => ({ ok: false, identity, refusal });
    if (required.length === 0) {
      return identity.kind === 'anonymous' ? refuse(this.#unauthorized(req, [], 'authentication required')) : { ok: true, identity, mount: true };
    }
    const granted = await this.auth.authorizer.grant(identity, required, req.address);
    if (!covers(granted, required)) {
      const log = { user: identityName(identity), address: req.address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: 'not permitted' };
      return refuse(this.#notPermitted(identity, req, required, required, log, `insufficient scope for ${required.map(formatScope).join(' ')}`));
    }
    const stored = await this.#storedRefusal(identity, req, required);
    if (stored) return refuse(stored);
    return { ok: true, identity, mount: await this.#mountAllowed(identity, req) };
  }

  /** Keeps the repositories the identity may pull from (the catalog's filter). */
  async visible(identity: Identity, names: string[], address: string): Promise<string[]> {
    const subject = await this.#subjectIdentity(identity);
    return subject ? this.auth.authorizer.visible(subject, names, address) : names;
  }

  /** The challenge a client answers by signing in (Basic) or fetching a token for `required` (Bearer). */
  challenge(tokenServer: string, required: Access[], error?: string): string {
    if (this.auth.mode !== 'token') return `Basic realm=${quote(this.auth.realm)}`;
    const parts = [`Bearer realm=${quote(this.auth.realm || tokenServer)}`, `service=${quote(this.auth.service)}`];
    if (required.length > 0) parts.push(`scope=${quote(required.map(formatScope).join(' '))}`);
    if (error) parts.push(`error=${quote(error)}`);
    return parts.join(',');
  }

  async #authenticate(credentials: Credentials | undefined, req: AccessRequest, required: Access[]): Promise<{ ok: true; identity: Identity } | { ok: false; refusal: Refusal }> {
    const token = this.auth.mode === 'token';
    if (token && credentials?.kind !== 'bearer') return { ok: false, refusal: this.#unauthorized(req, required, 'a bearer token is required') };
    // Basic mode: a Bearer header is no login at all.
    if (!credentials || (!token && credentials.kind !== 'basic')) return { ok: true, identity: ANONYMOUS };
    const result = await this.auth.signIn.check(credentials, req.address);
    if (result.ok) return { ok: true, identity: result.identity };
    const user = credentials.kind === 'basic' ? claimedName(credentials) : ('subject' in result && result.subject !== undefined ? result.subject : '-');
    const log = { user, address: req.address, repository: required[0]?.name, action: required[0]?.actions.join(','), reason: result.reason };
    if ('retryAfter' in result) {
      return { ok: false, refusal: { code: 'TOOMANYREQUESTS', detail: 'too many failed logins; try again later', headers: { 'Retry-After': String(result.retryAfter) }, log } };
    }
    if (token) return { ok: false, refusal: { ...this.#unauthorized(req, required, result.reason, 'invalid_token'), log } };
    return { ok: false, refusal: { ...this.#unauthorized(req, required, result.reason === 'expired' ? 'credentials expired' : 'invalid credentials'), log } };
  }

  /**
   * Pull rights on the repositories a pull really reads (`alsoRequired`). A token client is
   * challenged for both scopes: an external token server may grant the stored one.
   */
  async #storedRefusal(identity: Identity, req: AccessRequest, required: Access[]): Promise<Refusal | undefined> {
    const first = required[0];
    if (!this.alsoRequired || first?.type !== 'repository' || first.actions[0] !== 'pull') return undefined;
    const names = await this.alsoRequired(first.name, req.ns);
    if (names.length === 0) return undefined;
    const also = pullOf(names);
    if (await this.#storedGranted(identity, also, req.address)) return undefined;
    const log = { user: identityName(identity), address: req.address, repository: first.name, stored: names.join(','), action: 'pull', reason: 'not permitted on the stored repository' };
    return this.#notPermitted(identity, req, [...required, ...also], also, log, `insufficient scope for ${also.map(formatScope).join(' ')}`);
  }

  /** A cross-repository mount also reads the source (and the repository it is stored in). */
  async #mountAllowed(identity: Identity, req: AccessRequest): Promise<boolean> {
    const from = req.mountFrom;
    if (from === undefined) return true;
    const source = pullOf([from]);
    if (!covers(await this.auth.authorizer.grant(identity, source, req.address), source)) return false;
    const stored = this.alsoRequired && isValidName(from) ? await this.alsoRequired(from, req.ns) : [];
    return stored.length === 0 || this.#storedGranted(identity, pullOf(stored), req.address);
  }

  /**
   * Whether `identity` may pull the stored repositories. A token grants them when its claims do;
   * else a built-in token stands for its subject, judged by that user's or robot's roles now
   * (clients ask for the requested name only). An external token server's view of the stored
   * names is unknown, so its tokens must name them.
   */
  async #storedGranted(identity: Identity, also: Access[], address: string): Promise<boolean> {
    if (covers(await this.auth.authorizer.grant(identity, also, address), also)) return true;
    if (identity.kind !== 'token') return false;
    const subject = await this.#subjectIdentity(identity);
    if (!subject || subject.kind === 'token') return false;
    return covers(await this.auth.authorizer.grant(subject, also, address), also);
  }

  /** Token mode asks for more scope; an anonymous Basic client is asked to sign in; anyone else is denied. */
  #notPermitted(identity: Identity, req: AccessRequest, challenged: Access[], denied: Access[], log: Record<string, unknown>, scopeDetail: string): Refusal {
    if (this.auth.mode === 'token') return { ...this.#unauthorized(req, challenged, scopeDetail, 'insufficient_scope'), log };
    if (identity.kind === 'anonymous') return { ...this.#unauthorized(req, challenged, 'authentication required'), log };
    return { code: 'DENIED', detail: denied.map((r) => ({ Type: r.type, Name: r.name, Action: r.actions.join(',') })), headers: {}, log };
  }

  #unauthorized(req: AccessRequest, required: Access[], detail: string, error?: string): Refusal {
    return { code: 'UNAUTHORIZED', detail, headers: { 'WWW-Authenticate': this.challenge(req.tokenServer, required, error) } };
  }

  /** A token's subject as the identity it stands for, for built-in tokens; undefined for external ones (they see all). */
  async #subjectIdentity(identity: Identity): Promise<Identity | undefined> {
    if (identity.kind !== 'token') return identity;
    if (!this.auth.issuer || identity.issuer !== this.auth.issuer.options.issuer) return undefined;
    return (await this.auth.subjects.current(identity.name, identity.credential))?.identity ?? ANONYMOUS;
  }
}

/** The access a route's declared action needs: registry-wide routes (the catalog) need `registry:catalog:*`. */
export function requiredAccess(declared: AccessRequest['declared']): Access[] {
  if (!declared) return [];
  if (declared.repository === undefined) return [{ type: 'registry', name: 'catalog', actions: ['*'] }];
  return [{ type: 'repository', name: declared.repository, actions: [declared.action] }];
}

function pullOf(names: string[]): Access[] {
  return names.map((name) => ({ type: 'repository', name, actions: ['pull'] }));
}

function quote(s: string): string {
  return `"${s.replace(/["\\]/g, '\\$&')}"`;
}
