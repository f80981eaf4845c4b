// The built-in token server (Docker registry token specification): `GET /auth/token` with Basic
// credentials (or none, for anonymous pulls of public projects) and `scope`/`service`, and the
// OAuth2 `POST` form (grant_type=password or refresh_token) that containerd and Docker use.
// A Fastify plugin: the app registers it (app.ts) under its prefix when this registry issues tokens.
import type { FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { AuthService } from '../auth/service.js';
import { ANONYMOUS, identityName, type Identity } from '../auth/identity.js';
import { formatScope, parseScopes } from '../auth/scope.js';
import type { HttpSettings } from './settings.js';
import { errorBodyText } from './error-body.js';
import { credentialsOf } from '../auth/credentials.js';
import { crossSiteReason } from '../auth/csrf.js';

const FORM_LIMIT = 64 * 1024;

export interface TokenServerOptions { auth: AuthService; settings: HttpSettings }

export const tokenServer: FastifyPluginAsync<TokenServerOptions> = async (app, { auth, settings }) => {
  const issuer = auth.issuer;
  if (!issuer) return;
  const handler = async (req: FastifyRequest, reply: FastifyReply) => {
    const address = auth.proxies.clientAddress(req.socket.remoteAddress, req.headers);
    // The OAuth2 form is url-encoded by design, so only the browser's own word on a request's origin refuses it.
    const forged = crossSiteReason(req, { host: settings.host, trusted: settings.corsOrigins });
    if (forged) {
      req.log.warn({ address, origin: req.headers.origin, reason: 'cross-site request' }, 'access refused');
      return oauthError(reply, 403, 'access_denied', forged);
    }
    const params = req.method === 'POST' ? await readForm(req) : new URLSearchParams(req.url.split('?')[1] ?? '');
    if (!params) return oauthError(reply, 400, 'invalid_request', 'the form is too large or not url-encoded');
    const scopes = parseScopes(params.getAll('scope'));
    let identity: Identity;
    let stamp: string | undefined;
    let offline: boolean;
    if (req.method === 'POST') {
      const grant = params.get('grant_type');
      offline = params.get('access_type') === 'offline';
      if (grant === 'password') {
        const outcome = await login(auth, req, reply, params.get('username') ?? '', params.get('password') ?? '', address, scopes.map(formatScope).join(' '));
        if (!outcome) return reply;
        ({ identity, stamp } = outcome);
      } else if (grant === 'refresh_token') {
        const claims = await issuer.refreshClaims(params.get('refresh_token') ?? '');
        const found = claims === undefined ? undefined : await auth.subjects.current(claims.subject, claims.credential);
        // Refresh tokens issued before a password change, or to a user since removed, are refused.
        if (!found || found.identity.kind === 'anonymous' || found.stamp === undefined || found.stamp !== claims?.credential) {
          req.log.warn({ user: claims?.subject ?? '-', address, scope: scopes.map(formatScope).join(' '), reason: found ? 'refresh token revoked' : 'refresh token invalid' }, 'access refused');
          return oauthError(reply, 401, 'invalid_grant', 'refresh token invalid or expired');
        }
        identity = found.identity;
        stamp = found.stamp;
      } else {
        return oauthError(reply, 400, 'unsupported_grant_type', 'grant_type must be password or refresh_token');
      }
    } else {
      offline = params.get('offline_token') === 'true';
      const basic = credentialsOf(req.headers.authorization);
      if (basic?.kind === 'basic') {
        const outcome = await login(auth, req, reply, basic.user, basic.password, address, scopes.map(formatScope).join(' '));
        if (!outcome) return reply;
        ({ identity, stamp } = outcome);
      } else {
        identity = ANONYMOUS;
      }
    }
    const granted = await auth.authorizer.grant(identity, scopes, address);
    const subject = identity.kind === 'anonymous' ? '' : identityName(identity);
    // The stamp of the credential just checked (or the refresh token's): a later change revokes the tokens.
    const token = await issuer.accessToken(subject, granted, stamp);
    const body: Record<string, unknown> = {
      token: token.token, access_token: token.token, expires_in: token.expiresIn, issued_at: token.issuedAt,
      scope: granted.map(formatScope).join(' '),
    };
    if (offline && identity.kind !== 'anonymous') body.refresh_token = await issuer.refreshToken(subject, stamp);
    reply.code(200).header('Cache-Control', 'no-store').type('application/json').send(JSON.stringify(body));
    return reply;
  };
  app.route({ method: ['GET', 'POST'], url: '/auth/token', handler });
};

/** The identity and the stamp of the credential it proved (none for htpasswd users: the file is not revocable here). */
async function login(auth: AuthService, req: FastifyRequest, reply: FastifyReply, user: string, password: string, address: string, scope: string): Promise<{ identity: Identity; stamp: string | undefined } | undefined> {
  const result = await auth.signIn.password(user, password, address);
  // No hash (htpasswd users): the file is not revocable here, so the token carries no stamp.
  if (result.ok) return { identity: result.identity, stamp: auth.subjects.stampFor(result.identity, result.hash) };
  req.log.warn({ user, address, scope, reason: result.reason }, 'access refused');
  if ('retryAfter' in result) {
    reply.header('Retry-After', String(result.retryAfter));
    oauthError(reply, 429, 'too_many_requests', 'too many failed logins; try again later');
    return undefined;
  }
  reply.header('WWW-Authenticate', `Basic realm="${auth.service || 'berth'} token server"`);
  oauthError(reply, 401, 'invalid_grant', 'invalid credentials');
  return undefined;
}

function oauthError(reply: FastifyReply, status: number, error: string, description: string): FastifyReply {
  const code = status === 401 ? 'UNAUTHORIZED' : status === 403 ? 'DENIED' : status === 429 ? 'TOOMANYREQUESTS' : 'UNSUPPORTED';
  // Both shapes: OAuth2 clients read `error`, registry clients read `errors`.
  reply.code(status).type('application/json').send(errorBodyText([{ code, message: description }], { error, error_description: description }));
  return reply;
}

async function readForm(req: FastifyRequest): Promise<URLSearchParams | undefined> {
  const chunks: Buffer[] = [];
  let total = 0;
  for await (const chunk of req.raw) {
    total += (chunk as Buffer).length;
    if (total > FORM_LIMIT) return undefined;
    chunks.push(chunk as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}
