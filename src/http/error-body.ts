// The one writer of error bodies. Every refusal Berth answers, from the error hook, the router,
// Node's parser, the token server or the admin API, has the distribution-spec's shape
// `{"errors":[{code,message,detail}]}` because it is written here, and a HEAD answer never
// carries one.
import { STATUS_CODES } from 'node:http';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { RegistryError } from '../errors/index.js';

export interface ErrorEntry {
  code: string;
  message: string;
  detail?: unknown;
}

/**
 * The JSON text of an error body. `alongside` adds fields other clients read before `errors`
 * (OAuth2's `error` and `error_description`, the admin API's `error`).
 */
export function errorBodyText(errors: ErrorEntry[], alongside: Record<string, unknown> = {}): string {
  return JSON.stringify({ ...alongside, errors });
}

/**
 * Answers `error` on a Fastify reply: its status and headers, no headers a successful answer
 * had set, and the body unless the request is a HEAD.
 */
export function sendError(req: FastifyRequest, reply: FastifyReply, error: RegistryError): void {
  reply.removeHeader('Content-Length');
  reply.removeHeader('Content-Type');
  reply.removeHeader('Cache-Control');
  reply.removeHeader('ETag');
  reply.code(error.status).headers(error.headers);
  if (req.method === 'HEAD' && error.explanation && req.raw.httpVersionMajor === 1) reply.raw.statusMessage = reasonPhrase(error.status, error.explanation);
  sendErrorBody(req, reply, [error.toJSON()]);
}

const MAX_REASON = 512;

/**
 * A HEAD answer has no body, and clients that resolve by HEAD (containerd, docker) show only its
 * status line; an HTTP/1.1 reason phrase carries the why there (`403 Forbidden: policy ...`).
 * Only visible ASCII and spaces are allowed in it (RFC 9112), so the message is reduced to those.
 */
function reasonPhrase(status: number, message: string): string {
  const text = message.replace(/[^\x20-\x7e]+/g, ' ').trim();
  const phrase = `${STATUS_CODES[status] ?? 'Error'}: ${text}`;
  return phrase.length > MAX_REASON ? `${phrase.slice(0, MAX_REASON - 3)}...` : phrase;
}

/** Sends an error body (status and headers already set), none on HEAD. */
export function sendErrorBody(req: FastifyRequest, reply: FastifyReply, errors: ErrorEntry[], alongside?: Record<string, unknown>): FastifyReply {
  if (req.method === 'HEAD') return reply.send();
  return reply.type('application/json').send(errorBodyText(errors, alongside));
}

/**
 * A whole HTTP/1.1 error response as text, for a socket no request could be parsed from (so no
 * method is known); the connection closes after it.
 */
export function rawErrorResponse(error: RegistryError): string {
  const body = errorBodyText([error.toJSON()]);
  return [
    `HTTP/1.1 ${error.status} ${STATUS_CODES[error.status] ?? ''}`,
    'Content-Type: application/json',
    `Content-Length: ${Buffer.byteLength(body)}`,
    'Docker-Distribution-API-Version: registry/2.0',
    'Connection: close',
    '', body,
  ].join('\r\n');
}
