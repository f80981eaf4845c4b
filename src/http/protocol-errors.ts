// Requests refused before any route runs still get the spec's error JSON and the API version
// header: malformed HTTP (conflicting Content-Length/Transfer-Encoding, bad chunk framing,
// invalid bytes in the request line), headers past http.limits.maxheaderbytes, and paths that
// are not valid percent-encoded UTF-8.
import type { Socket } from 'node:net';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors/index.js';
import { routerRefusal } from './request-target.js';
import { rawErrorResponse, sendError } from './error-body.js';

/** Node's `clientError`: the request could not be parsed, so answer on the socket and close it. */
export function answerClientError(err: NodeJS.ErrnoException, socket: Socket): void {
  // A reset socket has nobody left to answer.
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const error = err.code === 'HPE_HEADER_OVERFLOW'
    ? new RegistryError('SIZE_INVALID', 'request headers exceed http.limits.maxheaderbytes', { status: 431 })
    : err.code === 'ERR_HTTP_REQUEST_TIMEOUT'
      ? new RegistryError('UNAVAILABLE', 'request headers not received in time', { status: 408 })
      : new RegistryError('UNSUPPORTED', `malformed HTTP request (${err.code ?? 'parse error'})`, { status: 400 });
  // As Node's own handler does: never write into a response that is already on its way.
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  if (socket.writable && !inFlight?.headersSent) socket.write(rawErrorResponse(error));
  socket.destroy();
}

/** Fastify's `frameworkErrors`: errors raised by the router before any hook runs. */
export function frameworkErrorHandler() {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const error = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? routerRefusal(req)
      : new RegistryError('INTERNAL', { requestId: req.id });
    if (error.status >= 500) req.log.error({ err }, 'request failed');
    reply.header('Docker-Distribution-API-Version', 'registry/2.0').header('X-Request-Id', req.id);
    sendError(req, reply, error);
  };
}

/**
 * RFC 9112 3.2: an HTTP/1.1 request without Host is refused with 400. Node would answer it
 * itself with an empty body; checking here gives the client the spec's error JSON instead.
 */
export async function requireHost(req: FastifyRequest): Promise<void> {
  if (req.raw.httpVersion === '1.1' && req.headers.host === undefined) {
    throw new RegistryError('UNSUPPORTED', 'HTTP/1.1 requests must carry a Host header', { status: 400 });
  }
}
