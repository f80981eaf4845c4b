// The console on the registry's own listener: its sessions (when authentication is on), its
// sign-in routes and its built pages under `<http.prefix><ui.path>`. Installed by the app.
import type { FastifyInstance } from 'fastify';
import type { AuthService } from '../../auth/service.js';
import type { HttpSettings } from '../settings.js';
import { assetRoutes } from './assets.js';
import { sessionRoutes } from './session-routes.js';
import { oidcRoutes } from './oidc-routes.js';
import { attachConsoleSessions, ConsoleSessions } from './sessions.js';

export interface ConsoleSettings {
  enabled: boolean;
  /** ui.path: where the console lives after http.prefix. */
  path: string;
  session: { maxage: number; idle: number };
}

/** Paths the console may not take: the registry API, the read/admin API, the token server, health and metrics. */
const RESERVED = ['/v2', '/api', '/auth', '/metrics', '/debug', '/healthz', '/readyz', '/livez'];

/** The console's sessions, made before the auth hook is installed (which reads them on every request). */
export function consoleSessions(auth: AuthService | undefined, console: ConsoleSettings | undefined, settings: HttpSettings): ConsoleSessions | undefined {
  if (!auth || !console?.enabled) return undefined;
  const sessions = new ConsoleSessions(auth, { maxAgeMs: console.session.maxage, idleMs: console.session.idle, host: settings.host });
  attachConsoleSessions(auth, sessions);
  return sessions;
}

export async function installConsole(app: FastifyInstance, console: ConsoleSettings, auth: AuthService | undefined, sessions: ConsoleSessions | undefined, settings: HttpSettings): Promise<void> {
  const clash = RESERVED.find((r) => console.path === r || console.path.startsWith(`${r}/`));
  if (clash) throw new Error(`ui.path ${console.path} would hide ${clash}: choose another path for the console`);
  const root = `${settings.prefix}${console.path}`;
  // The console's own calls say so (X-Berth-Console): a refusal then carries no Basic challenge,
  // which would make the browser pop up its own sign-in dialog over the page.
  app.addHook('onSend', async (req, reply) => {
    if (req.headers['x-berth-console'] === undefined) return;
    const challenge = reply.getHeader('WWW-Authenticate');
    if (challenge === undefined) return;
    reply.removeHeader('WWW-Authenticate');
    reply.header('X-Berth-Authenticate', challenge);
  });
  await app.register(async (scope) => {
    sessionRoutes(scope, auth, sessions, settings, `${root}/auth/oidc/login`);
    if (auth?.directories.oidc && sessions) oidcRoutes(scope, auth, auth.directories.oidc, sessions, settings, root);
    assetRoutes(scope, { root, prefix: settings.prefix });
  }, { prefix: root });
}
