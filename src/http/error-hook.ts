// The one place thrown errors become responses, with the status the error table names (the body
// is written by error-body.ts, none on HEAD). Unknown errors are logged and answered with a
// request id, never with their message.
import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { RegistryError, isRegistryError } from '../errors/index.js';
import { InvalidPathError } from '../storage/driver.js';
import { isStorageFull } from '../errors/storage-full.js';
import { drainAfterHandlerError } from './body-guards.js';
import { sendError } from './error-body.js';

export function installErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const error = toRegistryError(err, req);
    if (error.status >= 500) req.log.error({ err }, 'request failed');
    else req.log.debug({ code: error.code, detail: error.detail }, 'request refused');
    if (reply.raw.headersSent || reply.raw.destroyed) return;
    if (!req.raw.complete && !req.raw.destroyed) drainAfterHandlerError(req.raw);
    sendError(req, reply, error);
  });
  app.setNotFoundHandler((req, reply) => {
    sendError(req, reply, new RegistryError('NOT_FOUND', { path: req.url.split('?')[0] }));
  });
}

function toRegistryError(err: FastifyError, req: FastifyRequest): RegistryError {
  if (isRegistryError(err)) return err;
  if (err instanceof InvalidPathError) return new RegistryError('NAME_INVALID', 'invalid path component');
  if (isStorageFull(err)) return new RegistryError('STORAGE_FULL', 'no space left on the storage device');
  // The client went away (or broke the framing) mid-body: its mistake, not a server failure.
  // Only the body stream's own error says so; a server error while the request was open does not.
  if (isBodyAborted(err) && (req.raw.aborted || req.raw.destroyed)) {
    return new RegistryError('BLOB_UPLOAD_INVALID', 'the request body ended early (client closed the connection)');
  }
  const status = err.statusCode;
  if (status !== undefined && status >= 400 && status < 500) {
    const code = status === 413 ? 'SIZE_INVALID' : 'UNSUPPORTED';
    return new RegistryError(code, err.message, { status });
  }
  return new RegistryError('INTERNAL', { requestId: req.id });
}

function isBodyAborted(err: Error): boolean {
  const code = (err as NodeJS.ErrnoException).code;
  return code === 'ECONNRESET' || code === 'ERR_STREAM_PREMATURE_CLOSE' || err.message === 'aborted';
}
