// Keeps real clients' registry traffic on loopback. When a mirror answers an error, dockerd and
// podman fall back to Docker Hub itself (a DNS lookup of registry-1.docker.io, then a
// connection): a test must never send that off the machine, whatever the sandbox's network. The
// clients are run with HTTP(S)_PROXY pointing here (Go's proxy rules never send loopback
// addresses through a proxy, and NO_PROXY says so again), so the fallback arrives as a CONNECT to
// this trap, which records it and refuses it with a status that names it.
import assert from 'node:assert/strict';
import { createServer, type Server, type Socket } from 'node:net';

/** The reason the trap answers; clients repeat it in their error ("Forbidden (...)"). */
export const TRAP_REASON = 'berth test proxy: traffic stays on loopback';

export interface LoopbackTrap {
  url: string;
  /** The request lines the trap refused, e.g. "CONNECT registry-1.docker.io:443 HTTP/1.1". */
  seen: string[];
  /** Proxy variables for a client's environment (both spellings, overriding inherited ones). */
  env: Record<string, string>;
  stop(): Promise<void>;
}

export async function startLoopbackTrap(): Promise<LoopbackTrap> {
  const seen: string[] = [];
  const sockets = new Set<Socket>();
  const server: Server = createServer((socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    socket.once('data', (chunk: Buffer) => {
      seen.push(chunk.toString('latin1').split('\r\n', 1)[0] ?? '');
      socket.end(`HTTP/1.1 403 Forbidden (${TRAP_REASON})\r\nContent-Length: 0\r\nConnection: close\r\n\r\n`);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  const url = `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
  const noProxy = '127.0.0.1,localhost,::1';
  return {
    url,
    seen,
    env: { HTTPS_PROXY: url, https_proxy: url, HTTP_PROXY: url, http_proxy: url, NO_PROXY: noProxy, no_proxy: noProxy },
    stop: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      for (const s of sockets) s.destroy();
    }),
  };
}

/**
 * A failed pull's fallback was refused here: the client went for Docker Hub through the trap
 * (never for the mirror, which it reaches directly) and reports the trap's refusal, not a name
 * lookup or an answer from off the machine.
 */
export function assertFallbackTrapped(trap: LoopbackTrap, clientError: string): void {
  assert.doesNotMatch(clientError, /lookup |no such host|name resolution|network is unreachable/i, `the client tried to leave loopback:\n${clientError}`);
  assert.ok(trap.seen.length > 0, `the client did not fall back through the trap:\n${clientError}`);
  for (const line of trap.seen) assert.doesNotMatch(line, /^\S+ (http:\/\/)?(127\.0\.0\.1|localhost|\[::1\])[:/]/, `a loopback request went through the proxy: ${line}`);
  assert.ok(clientError.includes(TRAP_REASON), `the client's error does not report the trap's refusal:\n${clientError}`);
}
