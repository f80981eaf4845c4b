// Failed TLS handshakes (no shared cipher, an old protocol version, a client certificate the
// client CAs did not sign) are logged at warn with the peer and OpenSSL's reason: a server
// whose every handshake fails must say so. A scanner can fail handshakes at will, so the log
// takes at most a few a minute and counts the rest.
import type { Server } from 'node:net';
import type { TLSSocket } from 'node:tls';
import type { FastifyBaseLogger } from 'fastify';
import { logBudget } from './log-budget.js';

export function logHandshakeFailures(server: Server, log: FastifyBaseLogger): void {
  const budget = logBudget(10, 60_000);
  server.on('tlsClientError', (err: NodeJS.ErrnoException & { reason?: string }, socket: TLSSocket) => {
    // A peer that hangs up mid-handshake (a port check, a refused extra connection) is no failure.
    if (err.code === 'ECONNRESET' || err.message === 'socket hang up') return;
    const turn = budget.take();
    if (!turn.ok) return;
    log.warn({
      address: socket.remoteAddress, code: err.code, reason: err.reason ?? err.message,
      ...(turn.suppressed > 0 ? { suppressed: turn.suppressed } : {}),
    }, 'TLS handshake failed');
  });
}
