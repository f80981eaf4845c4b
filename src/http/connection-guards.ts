// What protects the listener itself, before and around the routes: per-client connection
// limits, request bodies that stall or go unread, and TLS handshakes that fail.
import type { Server } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { HttpSettings } from './settings.js';
import { limitConnectionsPerClient } from './connection-limits.js';
import { installBodyGuards } from './body-guards.js';
import { logHandshakeFailures } from './tls-errors.js';

export function installConnectionGuards(app: FastifyInstance, settings: HttpSettings): void {
  const server = app.server as unknown as Server;
  limitConnectionsPerClient(server, settings.maxConnectionsPerClient, settings.trustedProxies, app.log);
  installBodyGuards(app, settings.bodyIdleMs);
  logHandshakeFailures(server, app.log);
}
