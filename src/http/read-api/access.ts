// Who may read what through the read API: exactly what the registry API allows them. A
// repository's pages need its pull right, judged by the same access control as /v2/ (the same
// credentials, challenge and refusals); the repository list is the catalog's, filtered the same
// way; registry-wide records (audit, GC runs, dead letters, upstreams, system) need a system
// administrator, as the admin API does. A console session cookie counts as signed in, as it
// does on /v2/. Without `auth` the registry is open, and so is this.
import type { FastifyRequest } from 'fastify';
import { RegistryError } from '../../errors/index.js';
import type { AuthService } from '../../auth/service.js';
import { AccessControl, type AccessRequest, type AlsoRequired } from '../../auth/access-control.js';
import { credentialsOf } from '../../auth/credentials.js';
import { ANONYMOUS, type Identity } from '../../auth/identity.js';
import { requestAuth, sessionIdentity, tokenServer } from '../auth-hook.js';
import { admin } from '../admin-api.js';
import { AdminApiError } from '../admin-types.js';
import type { HttpSettings } from '../settings.js';

export class ReadAccess {
  readonly #auth: AuthService | undefined;
  readonly #settings: HttpSettings;
  readonly #control: AccessControl | undefined;

  constructor(auth: AuthService | undefined, settings: HttpSettings, alsoRequired?: AlsoRequired) {
    this.#auth = auth;
    this.#settings = settings;
    this.#control = auth ? new AccessControl(auth, alsoRequired) : undefined;
  }

  /** Refuses (as /v2/ would) a caller without the pull right on `repository`. */
  async repository(req: FastifyRequest, repository: string): Promise<void> {
    await this.#admit(req, { action: 'pull', repository });
  }

  /** Admits a caller of the catalog and answers its filter: the repositories it may pull (undefined: all). */
  async catalog(req: FastifyRequest): Promise<((names: string[]) => Promise<string[]>) | undefined> {
    const identity = await this.#admit(req, { action: '*', repository: undefined });
    const control = this.#control;
    if (!control || !identity) return undefined;
    const address = this.#address(req);
    return (names) => control.visible(identity, names, address);
  }

  /** Refuses anyone but a system administrator (when the registry has accounts). */
  async administrator(req: FastifyRequest): Promise<void> {
    if (!this.#auth) return;
    try {
      await admin(this.#auth, req, this.#address(req));
    } catch (err) {
      if (!(err instanceof AdminApiError)) throw err;
      const headers: Record<string, string> = err.status === 401 ? { 'WWW-Authenticate': 'Basic realm="berth admin"' } : {};
      throw new RegistryError(err.code, err.detail, { status: err.status, headers, message: err.message });
    }
  }

  async #admit(req: FastifyRequest, declared: AccessRequest['declared']): Promise<Identity | undefined> {
    const auth = this.#auth;
    if (!auth || !this.#control) return undefined;
    const address = this.#address(req);
    const request = { declared, address, ns: undefined, mountFrom: undefined, tokenServer: tokenServer(auth, this.#settings, req) };
    // A console session stands for the credentials, as on /v2/ (auth-hook.ts).
    const session = sessionIdentity(req);
    const admission = session ? await this.#control.admitIdentity(session, request) : await this.#control.admit(credentialsOf(req.headers.authorization), request);
    if (!admission.ok) {
      const { refusal } = admission;
      if (refusal.log) req.log.warn(refusal.log, 'access refused');
      throw new RegistryError(refusal.code, refusal.detail, { headers: refusal.headers });
    }
    return admission.identity ?? ANONYMOUS;
  }

  #address(req: FastifyRequest): string {
    return requestAuth(req)?.address ?? req.socket.remoteAddress ?? '';
  }
}
