// Debian's nginx as the TLS-terminating reverse proxy operators put in front of a registry:
// a private config, prefix, pid file and temp dirs in a directory the caller owns, one HTTPS
// server per entry on 127.0.0.1, each proxying /v2/ as plain HTTP to an upstream with the
// settings large image pushes need (no body size limit, request bodies streamed, chunked).
// Without a certificate it listens in plain HTTP; several upstreams are balanced round-robin
// (no stickiness), a refused connection passing an idempotent request to the next one.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { join } from 'node:path';
import { cleanEnv, stopChild, tail, track } from './env.js';

export interface ProxiedServer {
  /** The HTTPS port nginx listens on (127.0.0.1). */
  port: number;
  /** host:port of the plain-HTTP upstream (Berth), or several (replicas), balanced round-robin. */
  upstream: string | string[];
  /** `proxy_set_header` lines (name and value) for this server, e.g. ['Host', '$http_host']. */
  headers: [string, string][];
  /** The proxied location (default `/v2/`); `/` passes every request target on as sent. */
  location?: string;
  /** More directives inside the location (e.g. proxy_cache). */
  directives?: string[];
}

export interface NginxOptions {
  dir: string;
  /** Certificate and key for HTTPS; without them nginx listens in plain HTTP. */
  cert?: string;
  key?: string;
  /** The CA that signed `cert`, to check that nginx answers. */
  ca?: string;
  servers: ProxiedServer[];
}

export interface NginxProcess {
  logs(): string;
  stop(): Promise<void>;
}

export async function startNginx(options: NginxOptions): Promise<NginxProcess> {
  const { dir } = options;
  for (const sub of ['logs', 'tmp/body', 'tmp/proxy', 'tmp/fastcgi', 'tmp/uwsgi', 'tmp/scgi']) await mkdir(join(dir, sub), { recursive: true });
  const conf = join(dir, 'nginx.conf');
  const tls = options.cert !== undefined && options.key !== undefined;
  const servers = options.servers.map((s, i) => `${Array.isArray(s.upstream) ? `
  upstream replicas_${i} {
${s.upstream.map((u) => `    server ${u} max_fails=1 fail_timeout=1s;`).join('\n')}
  }` : ''}
  server {
    listen 127.0.0.1:${s.port}${tls ? ` ssl http2;
    ssl_certificate ${options.cert};
    ssl_certificate_key ${options.key}` : ''};
    client_max_body_size 0;
    chunked_transfer_encoding on;
    location ${s.location ?? '/v2/'} {
      proxy_pass http://${Array.isArray(s.upstream) ? `replicas_${i}` : s.upstream};
      proxy_http_version 1.1;
      proxy_request_buffering off;
      # A cache needs the response buffered; otherwise stream it.
      proxy_buffering ${s.directives?.some((d) => d.startsWith('proxy_cache ')) ? 'on' : 'off'};
      proxy_read_timeout 900;
      # Locations pass through untouched: Berth itself must make them right for this side.
      proxy_redirect off;
${s.headers.map(([name, value]) => `      proxy_set_header ${name} ${value};`).join('\n')}
${(s.directives ?? []).map((d) => `      ${d};`).join('\n')}
    }
  }`).join('\n');
  await writeFile(conf, `
daemon off;
user root root;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log stderr warn;
events { worker_connections 256; }
http {
  access_log ${join(dir, 'logs', 'access.log')};
  client_body_temp_path ${join(dir, 'tmp/body')};
  proxy_temp_path ${join(dir, 'tmp/proxy')};
  fastcgi_temp_path ${join(dir, 'tmp/fastcgi')};
  uwsgi_temp_path ${join(dir, 'tmp/uwsgi')};
  scgi_temp_path ${join(dir, 'tmp/scgi')};
  proxy_cache_path ${join(dir, 'cache')} keys_zone=berth:1m;
${servers}
}
`);
  const child: ChildProcess = track(spawn('nginx', ['-p', dir, '-c', conf, '-e', 'stderr'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] }));
  const log = tail();
  child.stdout?.on('data', (c: Buffer) => log.push(c));
  child.stderr?.on('data', (c: Buffer) => log.push(c));
  child.on('error', (err) => log.push(`spawn error: ${err.message}\n`));
  const ca = options.ca ? readFileSync(options.ca) : undefined;
  const deadline = Date.now() + 20_000;
  for (const s of options.servers) {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) on start:\n${log.text()}`);
      }
      // 401: Berth with auth answers, too.
      if ([200, 401].includes(await status(`${tls ? 'https' : 'http'}://127.0.0.1:${s.port}/v2/`, ca))) break;
      if (Date.now() > deadline) {
        await stopChild(child, 'SIGKILL');
        throw new Error(`nginx did not answer 200 or 401 on 127.0.0.1:${s.port}/v2/ within 20 s:\n${log.text()}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }
  return {
    logs: () => log.text(),
    // SIGQUIT: graceful shutdown of master and worker.
    stop: () => stopChild(child, 'SIGQUIT'),
  };
}

function status(url: string, ca: Buffer | undefined): Promise<number> {
  return new Promise((resolve) => {
    const req = (url.startsWith('https:') ? httpsRequest : httpRequest)(url, { ...(ca ? { ca } : {}), timeout: 2000 }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
    });
    req.on('error', () => resolve(0));
    req.on('timeout', () => req.destroy());
    req.end();
  });
}
