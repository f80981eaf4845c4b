// At most http.limits.maxconnectionsperclient open connections per client address: one client
// holding hundreds of slow connections would otherwise starve everyone else. Counted on the raw
// TCP connection, before TLS and before any request, so a refused one costs nothing more.
import type { Server } from 'node:net';
import type { FastifyBaseLogger } from 'fastify';
import { AddressList, normalizeAddress } from '../net/forwarded.js';
import { logBudget } from './log-budget.js';

export function limitConnectionsPerClient(server: Server, max: number, trustedProxies: string[], log: FastifyBaseLogger): void {
  if (max <= 0) return;
  // A trusted proxy carries many clients on its connections; its own limits apply to them.
  const exempt = new AddressList(trustedProxies);
  const open = new Map<string, number>();
  const budget = logBudget(10, 60_000);
  server.on('connection', (socket) => {
    const address = normalizeAddress(socket.remoteAddress ?? '');
    if (address === '' || exempt.contains(address)) return;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      const turn = budget.take();
      if (turn.ok) log.warn({ address, limit: max, suppressed: turn.suppressed }, 'connection refused: too many open connections from this address (http.limits.maxconnectionsperclient)');
      socket.destroy();
      return;
    }
    open.set(address, count + 1);
    socket.once('close', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left <= 0) open.delete(address);
      else open.set(address, left);
    });
  });
}
