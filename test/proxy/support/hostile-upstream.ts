// A hostile upstream registry and the internal service it tries to make the mirror reach, both
// small node:http servers on 127.0.0.1. The upstream's behaviour is chosen by repository name:
//   to-internal, to-localhost  manifests, blobs and the tag list's Link point at the internal
//                              server (by IP, or by a name that resolves to loopback)
//   same-origin                a manifest redirect to another path of the upstream itself
//   fails                      500 with a secret body, for manifests and the tag list
//   endless                    a tag list whose Link chain never ends
//   slow                       the same, 300 ms per page
//   gated                      a tag list that stops answering at page 5 (held until the mirror hangs up)
//   realm                      401 with a Bearer realm on the internal server
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { imageManifest, blob, OCI_MANIFEST, type Manifest } from '../../support/oci-fixtures.js';

/** What the internal server answers with; it must never reach a mirror's client. */
export const SECRET = `internal-secret-${Math.random().toString(36).slice(2)}`;

class Recorder {
  readonly seen: string[] = [];
  readonly #server: Server;
  readonly #sockets = new Set<Socket>();
  port = 0;

  constructor(handle: (req: IncomingMessage, res: ServerResponse) => void) {
    this.#server = createServer((req, res) => {
      this.seen.push(`${req.method} ${req.url}`);
      handle(req, res);
    });
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    const addr = this.#server.address();
    if (!addr || typeof addr === 'string') throw new Error('no address');
    this.port = addr.port;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

export interface Gate {
  /** Resolves when the mirror asked for the page that is held. */
  held: Promise<void>;
  /** Resolves when the mirror hung up on the held page. */
  closed: Promise<void>;
}

export class HostileUpstream {
  /** The internal service: answers every path with SECRET (and a valid manifest at /manifest). */
  readonly internal: Recorder;
  readonly upstream: Recorder;
  /** A manifest the internal server and the same-origin redirect serve. */
  readonly manifest: Manifest = imageManifest(blob('config'), [blob('layer')]);
  /** Page requests per repository (tags/list). */
  readonly pages = new Map<string, number>();
  gate: Gate;
  #gateHeld!: () => void;
  #gateClosed!: () => void;

  private constructor() {
    this.internal = new Recorder((req, res) => {
      if (req.url === '/manifest') {
        res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(this.manifest.body);
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ schemaVersion: 2, tags: [SECRET], secret: SECRET }));
    });
    this.upstream = new Recorder((req, res) => this.#handle(req, res));
    this.gate = this.#newGate();
  }

  static async start(): Promise<HostileUpstream> {
    const h = new HostileUpstream();
    await h.internal.listen();
    await h.upstream.listen();
    return h;
  }

  get url(): string {
    return `http://127.0.0.1:${this.upstream.port}`;
  }

  /** host:port of the internal server, as an allow-list entry. */
  get internalHost(): string {
    return `127.0.0.1:${this.internal.port}`;
  }

  async close(): Promise<void> {
    await this.upstream.close();
    await this.internal.close();
  }

  #newGate(): Gate {
    const held = new Promise<void>((r) => { this.#gateHeld = r; });
    const closed = new Promise<void>((r) => { this.#gateClosed = r; });
    return { held, closed };
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://x');
    if (url.pathname === '/v2/' || url.pathname === '/v2') {
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
      return;
    }
    if (url.pathname === '/real-manifest') {
      res.writeHead(200, { 'content-type': OCI_MANIFEST }).end(this.manifest.body);
      return;
    }
    const m = /^\/v2\/([^/]+)\/(manifests|blobs|tags)\//.exec(url.pathname);
    if (!m) {
      res.writeHead(404).end();
      return;
    }
    const [, repo, kind] = m as unknown as [string, string, string];
    const internal = (host: string) => `http://${host}:${this.internal.port}`;
    switch (repo) {
      case 'to-internal':
      case 'to-localhost': {
        const base = internal(repo === 'to-internal' ? '127.0.0.1' : 'localhost');
        if (kind === 'tags') {
          res.writeHead(200, { 'content-type': 'application/json', link: `<${base}/v2/${repo}/tags/list?page=2>; rel="next"` })
            .end(JSON.stringify({ name: repo, tags: ['v1'] }));
          return;
        }
        res.writeHead(302, { location: `${base}/${kind === 'manifests' ? 'manifest' : 'latest/meta-data/iam'}` }).end();
        return;
      }
      case 'same-origin':
        res.writeHead(302, { location: '/real-manifest' }).end();
        return;
      case 'fails':
        res.writeHead(500, { 'content-type': 'text/plain' }).end(`upstream trace: ${SECRET}`);
        return;
      case 'endless':
      case 'slow':
      case 'gated': {
        const page = Number(url.searchParams.get('page') ?? '1');
        this.pages.set(repo, (this.pages.get(repo) ?? 0) + 1);
        if (repo === 'gated' && page >= 5) {
          res.on('close', () => this.#gateClosed());
          this.#gateHeld();
          return;
        }
        const answer = () => res.writeHead(200, { 'content-type': 'application/json', link: `</v2/${repo}/tags/list?page=${page + 1}>; rel="next"` })
          .end(JSON.stringify({ name: repo, tags: [`t${page}`] }));
        if (repo === 'slow') setTimeout(answer, 300);
        else answer();
        return;
      }
      case 'realm':
        res.writeHead(401, { 'www-authenticate': `Bearer realm="${internal('127.0.0.1')}/token",service="hostile"`, 'content-type': 'application/json' })
          .end('{"errors":[{"code":"UNAUTHORIZED","message":"token needed"}]}');
        return;
      default:
        res.writeHead(404, { 'content-type': 'application/json' }).end('{"errors":[{"code":"NAME_UNKNOWN","message":"no"}]}');
    }
  }
}
