// What protects the listener itself, before and around the routes: per-client connection
// limits, request heads that never finish (slowloris), request bodies that stall or go unread,
// and TLS handshakes that fail.
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { HttpSettings } from './settings.js';
import { limitConnectionsPerClient } from './connection-limits.js';
import { installBodyGuards } from './body-guards.js';
import { logHandshakeFailures } from './tls-errors.js';

/** Node checks open connections for late heads this often at most (its own default). */
const MAX_CHECK_INTERVAL_MS = 30_000;

export function installConnectionGuards(app: FastifyInstance, settings: HttpSettings): void {
  const server = app.server as unknown as Server;
  limitConnectionsPerClient(server, settings.maxConnectionsPerClient, settings.trustedProxies, app.log);
  limitHeadTime(server, settings.headerTimeoutMs);
  installBodyGuards(app, settings.bodyIdleMs);
  logHandshakeFailures(server, app.log);
}

/**
 * http.timeouts.header: Node answers a head not received in time 408 (protocol-errors.ts writes
 * the body) and closes the connection. Node looks for such heads on an interval, read when the
 * server starts listening; half the timeout keeps a short one short and leaves 60 s as Node has it.
 */
function limitHeadTime(server: Server, headerTimeoutMs: number): void {
  const http = server as Server & { headersTimeout?: number; connectionsCheckingInterval?: number };
  http.headersTimeout = headerTimeoutMs;
  if (headerTimeoutMs > 0) http.connectionsCheckingInterval = Math.min(MAX_CHECK_INTERVAL_MS, Math.max(100, Math.ceil(headerTimeoutMs / 2)));
}
