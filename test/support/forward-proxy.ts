// A forward proxy on 127.0.0.1, as a corporate one: CONNECT tunnels (https targets) and
// absolute-form requests (http targets), counted per target host:port, optionally behind
// Proxy-Authorization (Basic).
import { createServer, request as httpRequest, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { listenLoopback } from './listen.js';

export class ForwardProxy {
  /** Requests (absolute-form) and tunnels (CONNECT) per target `host:port`. */
  readonly targets = new Map<string, number>();
  /** Requests refused with 407. */
  refused = 0;
  url = '';
  host = '';
  readonly #server: Server;
  readonly #sockets = new Set<Duplex>();
  readonly #auth: string | undefined;

  private constructor(auth: string | undefined) {
    this.#auth = auth ? `Basic ${Buffer.from(auth).toString('base64')}` : undefined;
    this.#server = createServer((req, res) => this.#forward(req, res));
    this.#server.on('connect', (req: IncomingMessage, socket: Duplex, head: Buffer) => this.#tunnel(req, socket, head));
    this.#server.on('connection', (s: Socket) => this.#track(s));
  }

  /** `auth`: `user:password` the proxy demands, if any. */
  static async start(auth?: string): Promise<ForwardProxy> {
    const p = new ForwardProxy(auth);
    ({ host: p.host, url: p.url } = await listenLoopback(p.#server));
    return p;
  }

  /** Requests and tunnels to `target` (host:port), or to every target. */
  count(target?: string): number {
    if (target !== undefined) return this.targets.get(target) ?? 0;
    return [...this.targets.values()].reduce((a, b) => a + b, 0);
  }

  async close(): Promise<void> {
    for (const s of this.#sockets) s.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #track(s: Duplex): void {
    this.#sockets.add(s);
    s.on('close', () => this.#sockets.delete(s));
  }

  #authorized(req: IncomingMessage): boolean {
    if (this.#auth === undefined || req.headers['proxy-authorization'] === this.#auth) return true;
    this.refused++;
    return false;
  }

  #count(target: string): void {
    this.targets.set(target, (this.targets.get(target) ?? 0) + 1);
  }

  #forward(req: IncomingMessage, res: ServerResponse): void {
    if (!/^http:\/\//.test(req.url ?? '')) {
      res.writeHead(400).end('not a proxy request');
      return;
    }
    if (!this.#authorized(req)) {
      res.writeHead(407, { 'proxy-authenticate': 'Basic realm="test"' }).end();
      return;
    }
    const target = new URL(req.url!);
    this.#count(target.host);
    const headers = { ...req.headers };
    delete headers['proxy-authorization'];
    delete headers['proxy-connection'];
    const up = httpRequest(target, { method: req.method, headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  }

  #tunnel(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    this.#track(socket);
    socket.on('error', () => undefined);
    if (!this.#authorized(req)) {
      socket.end('HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic realm="test"\r\nContent-Length: 0\r\n\r\n');
      return;
    }
    const target = req.url ?? '';
    this.#count(target);
    const m = /^(.+):(\d+)$/.exec(target);
    if (!m) {
      socket.end('HTTP/1.1 400 Bad Request\r\n\r\n');
      return;
    }
    const up = connect(Number(m[2]), m[1]!.replace(/^\[(.*)\]$/, '$1'), () => {
      socket.write('HTTP/1.1 200 Connection Established\r\n\r\n');
      if (head.length) up.write(head);
      up.pipe(socket);
      socket.pipe(up);
    });
    this.#track(up);
    up.on('error', () => socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n'));
  }
}
