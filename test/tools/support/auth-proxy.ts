// A small front for a real registry in tests: it demands Basic credentials or Bearer tokens
// (issuing them itself, Docker token spec style, at /token), can fail the first N requests with
// 503, and otherwise forwards every request to the registry behind it, streaming both ways.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomBytes } from 'node:crypto';

export interface AuthProxyOptions {
  upstream: string; // http://127.0.0.1:PORT
  mode: 'basic' | 'bearer' | 'none';
  user?: string;
  password?: string;
  /** Fail this many registry requests with 503 before answering. */
  failFirst?: number;
  tokenLifetimeSeconds?: number;
}

export interface AuthProxy {
  url: string;
  host: string;
  tokenRequests: Array<{ scopes: string[]; user: string | undefined }>;
  requests: number;
  failed: number;
  close(): Promise<void>;
}

export async function startAuthProxy(options: AuthProxyOptions): Promise<AuthProxy> {
  const tokens = new Map<string, number>(); // token -> expiry ms
  const state: AuthProxy = { url: '', host: '', tokenRequests: [], requests: 0, failed: 0, close: async () => undefined };
  const basicOk = (h: string | undefined) => h === `Basic ${Buffer.from(`${options.user}:${options.password}`).toString('base64')}`;
  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/token') {
      const auth = req.headers.authorization;
      if (auth !== undefined && !basicOk(auth)) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"details":"bad credentials"}');
        return;
      }
      state.tokenRequests.push({ scopes: url.searchParams.getAll('scope'), user: auth ? options.user : undefined });
      const token = randomBytes(16).toString('hex');
      const lifetime = options.tokenLifetimeSeconds ?? 300;
      tokens.set(token, Date.now() + lifetime * 1000);
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token, expires_in: lifetime, issued_at: new Date().toISOString() }));
      return;
    }
    state.requests++;
    if (state.failed < (options.failFirst ?? 0)) {
      state.failed++;
      req.resume();
      res.writeHead(503, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}');
      return;
    }
    const auth = req.headers.authorization;
    let allowed = options.mode === 'none';
    if (options.mode === 'basic') allowed = basicOk(auth);
    if (options.mode === 'bearer') {
      const m = /^Bearer (.+)$/.exec(auth ?? '');
      allowed = !!m && (tokens.get(m[1]!) ?? 0) > Date.now();
    }
    if (!allowed) {
      req.resume();
      const challenge = options.mode === 'basic'
        ? 'Basic realm="test"'
        : `Bearer realm="${state.url}/token",service="test-registry"`;
      res.writeHead(401, { 'www-authenticate': challenge, 'content-type': 'application/json' })
        .end('{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}');
      return;
    }
    const headers = { ...req.headers };
    delete headers.authorization;
    const up = httpRequest(`${options.upstream}${req.url}`, { method: req.method, headers }, (upRes) => {
      const h = { ...upRes.headers };
      if (typeof h.location === 'string' && h.location.startsWith(options.upstream)) h.location = state.url + h.location.slice(options.upstream.length);
      res.writeHead(upRes.statusCode ?? 502, h);
      upRes.pipe(res);
    });
    up.on('error', (err) => res.destroy(err));
    req.pipe(up);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  state.host = `127.0.0.1:${addr.port}`;
  state.url = `http://${state.host}`;
  state.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return state;
}
