// The console's built files (`npm run build` writes them to dist/ui with Vite): the page for
// every console path, and the hashed assets, cached for good since a new build names new files.
// Only files present at startup are served, looked up by exact name: nothing from a request
// reaches the file system as a path. The page carries a Content-Security-Policy that allows no
// inline script or style and no other origin, and says where it lives (<base>) so one build
// serves any `http.prefix` and `ui.path`.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';
import { RegistryError } from '../../errors/index.js';

/** Where `npm run build` puts the console (dist/ui beside dist/src). */
export const BUILT_CONSOLE_DIR = fileURLToPath(new URL('../../../ui/', import.meta.url));

export const CONTENT_SECURITY_POLICY = [
  "default-src 'none'", "script-src 'self'", "style-src 'self'", "img-src 'self' data:", "font-src 'self'",
  "connect-src 'self'", "manifest-src 'self'", "base-uri 'self'", "form-action 'self'", "frame-ancestors 'none'",
].join('; ');

const TYPES: Record<string, string> = {
  '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.svg': 'image/svg+xml',
  '.png': 'image/png', '.woff2': 'font/woff2', '.json': 'application/json', '.map': 'application/json',
};

/** The placeholder in the built index.html where the page learns its base and the registry's prefix. */
const HEAD_PLACEHOLDER = '<meta name="berth-base">';

export interface ConsolePage {
  /** The console's root path as served (`<http.prefix><ui.path>`). */
  root: string;
  /** http.prefix, for the registry and admin APIs. */
  prefix: string;
}

export function assetRoutes(app: FastifyInstance, page: ConsolePage, dir = BUILT_CONSOLE_DIR): void {
  const assets = listAssets(join(dir, 'assets'));
  const index = existsSync(join(dir, 'index.html')) ? readFileSync(join(dir, 'index.html'), 'utf8') : undefined;
  const html = index?.replace(HEAD_PLACEHOLDER, `<base href="${attr(page.root)}/"><meta name="berth-prefix" content="${attr(page.prefix)}">`);

  app.get('/assets/:file', async (req, reply) => {
    const file = (req.params as { file: string }).file;
    const body = assets.get(file);
    if (!body) throw new RegistryError('NOT_FOUND', { path: req.url.split('?')[0] });
    return reply.header('Cache-Control', 'public, max-age=31536000, immutable').header('X-Content-Type-Options', 'nosniff')
      .type(TYPES[extname(file)] ?? 'application/octet-stream').send(body);
  });
  const sendPage = async (_req: unknown, reply: FastifyReply) => {
    if (html === undefined) throw new RegistryError('UNAVAILABLE', 'the console is not built: run `npm run build`');
    return reply.header('Cache-Control', 'no-cache').header('Content-Security-Policy', CONTENT_SECURITY_POLICY)
      .header('X-Content-Type-Options', 'nosniff').header('Referrer-Policy', 'same-origin').header('X-Frame-Options', 'DENY')
      .type('text/html; charset=utf-8').send(html);
  };
  // Every other path under the console is one of its pages: the page's router shows it.
  app.get('/', sendPage);
  app.get('/*', sendPage);
}

/** The built assets by file name, read once (a build is a few hundred kilobytes). */
function listAssets(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  if (!existsSync(dir)) return out;
  for (const name of readdirSync(dir)) out.set(name, readFileSync(join(dir, name)));
  return out;
}

function attr(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}
