// The counting upstream: an HTTP proxy in front of a real registry (a Berth app, Distribution,
// docker-registry) that records every request per method and path, so a test can tell what a
// pull sent upstream. It also plays a dead, hanging, rate-limiting or lying upstream.
// Pull-through tests and the client-mirror suite both count with it.
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { Transform } from 'node:stream';
import { listenLoopback } from '../support/listen.js';

export type UpstreamMode = 'pass' | 'down' | 'hang' | 'ratelimit' | 'corrupt';

export interface SeenRequest {
  method: string;
  path: string;
  /** The status answered (undefined until answered, or never for a dropped request). */
  status?: number;
}

/** An HTTP proxy in front of `target` (host:port) that records every request it receives. */
export class CountingProxy {
  readonly seen: SeenRequest[] = [];
  mode: UpstreamMode = 'pass';
  /** While false, requests pass without being recorded (seeding the upstream through it). */
  recording = true;
  readonly #server: Server;
  readonly #target: string;
  readonly #sockets = new Set<Socket>();
  url = '';
  host = '';

  private constructor(target: string) {
    this.#target = target;
    this.#server = createServer((req, res) => this.#handle(req, res));
    this.#server.on('connection', (s) => {
      this.#sockets.add(s);
      s.on('close', () => this.#sockets.delete(s));
    });
  }

  static async start(target: string): Promise<CountingProxy> {
    const p = new CountingProxy(target);
    ({ host: p.host, url: p.url } = await listenLoopback(p.#server));
    return p;
  }

  /**
   * Requests whose method and path match, since the last reset, except those answered with 401:
   * a challenge round trip (the client learning how to authenticate) fetches nothing.
   */
  count(method: string, path: RegExp = /./): number {
    return this.seen.filter((r) => r.method === method && path.test(r.path) && r.status !== 401).length;
  }

  /** Every recorded request as "METHOD /path", 401s included. */
  requests(): string[] {
    return this.seen.map((r) => `${r.method} ${r.path}`);
  }

  reset(): void {
    this.seen.length = 0;
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #handle(req: IncomingMessage, res: ServerResponse): void {
    const seen: SeenRequest = { method: req.method ?? '', path: req.url ?? '' };
    if (this.recording) this.seen.push(seen);
    if (this.mode === 'down') {
      req.socket.destroy();
      return;
    }
    if (this.mode === 'hang') return;
    if (this.mode === 'ratelimit') {
      res.writeHead(429, { 'content-type': 'application/json', 'retry-after': '1' }).end('{"errors":[{"code":"TOOMANYREQUESTS","message":"slow down"}]}');
      return;
    }
    const corrupt = this.mode === 'corrupt' && req.method === 'GET' && /\/blobs\/sha256:/.test(req.url ?? '');
    const upstream = httpRequest(`http://${this.#target}${req.url}`, { method: req.method, headers: req.headers }, (up) => {
      seen.status = up.statusCode;
      res.writeHead(up.statusCode ?? 502, up.headers);
      if (corrupt && up.statusCode === 200) up.pipe(flipFirstByte()).pipe(res);
      else up.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  }
}

/** Same length, different bytes: what a lying upstream sends. */
function flipFirstByte(): Transform {
  let first = true;
  return new Transform({
    transform(chunk: Buffer, _enc, done) {
      if (first && chunk.length > 0) {
        first = false;
        const copy = Buffer.from(chunk);
        copy[0] = copy[0]! ^ 0xff;
        done(null, copy);
        return;
      }
      done(null, chunk);
    },
  });
}
