// Requests refused before any route runs still get the spec's error JSON and the API version
// header: malformed HTTP (conflicting Content-Length/Transfer-Encoding, bad chunk framing,
// invalid bytes in the request line), headers past http.limits.maxheaderbytes, and paths that
// are not valid percent-encoded UTF-8.
import type { Socket } from 'node:net';
import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { RegistryError } from '../errors/index.js';
import { isValidName } from '../oci/reference.js';
import { matchRoute } from './routes.js';

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
  if (socket.writable && !inFlight?.headersSent) {
    const body = JSON.stringify({ errors: [error.toJSON()] });
    socket.write([
      `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
      'Content-Type: application/json',
      `Content-Length: ${Buffer.byteLength(body)}`,
      'Docker-Distribution-API-Version: registry/2.0',
      'Connection: close',
      '', body,
    ].join('\r\n'));
  }
  socket.destroy();
}

/** The error for a path that is not valid percent-encoded UTF-8 (`%ff`), named after the part it is in. */
export function undecodablePathError(url: string, prefix: string): RegistryError {
  return pathPartError(url, prefix, 'not valid percent-encoded UTF-8', new RegistryError('NOT_FOUND', { path: url.split('?')[0] }));
}

/**
 * The error for a path that cannot be used as written, named after the part of a route it is in
 * (the name, a reference, a digest, an upload id) where the raw path shows one; else `fallback`.
 */
export function pathPartError(url: string, prefix: string, reason: string, fallback: RegistryError): RegistryError {
  const path = url.split('?')[0]!;
  const base = `${prefix}/v2/`;
  const match = path.startsWith(base) ? matchRoute(path.slice(base.length)) : undefined;
  if (!match) return fallback;
  if (match.route.hasName && !isValidName(match.name)) return new RegistryError('NAME_INVALID', { name: match.name, reason });
  switch (match.route.name) {
    case 'manifest': return new RegistryError('MANIFEST_INVALID', { reason: 'invalid tag', tag: match.param });
    case 'blob':
    case 'referrers': return new RegistryError('DIGEST_INVALID', { digest: match.param, reason });
    case 'upload': return new RegistryError('BLOB_UPLOAD_UNKNOWN', { id: match.param });
    default: return fallback;
  }
}

/** Fastify's `frameworkErrors`: errors raised by the router before any hook runs. */
export function frameworkErrorHandler(prefix: string) {
  return (err: FastifyError, req: FastifyRequest, reply: FastifyReply): void => {
    const error = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH'
      ? undecodablePathError(req.url, prefix)
      : new RegistryError('INTERNAL', { requestId: req.id });
    if (error.status >= 500) req.log.error({ err }, 'request failed');
    reply.code(error.status).header('Docker-Distribution-API-Version', 'registry/2.0').header('X-Request-Id', req.id);
    if (req.method === 'HEAD') {
      reply.send();
      return;
    }
    reply.type('application/json').send(JSON.stringify({ errors: [error.toJSON()] }));
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
