// Request bodies that stop, and bodies nobody will read.
//
// Idle bodies: a request whose body goes http.timeouts.bodyidle without a byte arriving is
// answered 408 and its connection closed (HTTP/2: its stream). The clock runs only while Berth
// waits for the client: while received bytes sit unread (a slow storage backend, an auth check),
// the client is not blamed. A body that keeps moving is never cut, however long it takes.
//
// Unread bodies: a response sent before its request body has arrived (a 401 to an anonymous
// PUT, a refused Content-Range) closes the connection after the answer. Node would otherwise
// keep reading and discarding the rest for as long as the client cares to trickle it.
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { constants as h2, type Http2ServerRequest, type Http2ServerResponse } from 'node:http2';
import type { FastifyInstance } from 'fastify';
import { RegistryError } from '../errors/index.js';

type AnyRequest = IncomingMessage | Http2ServerRequest;

const DRAIN = Symbol('berth.drainUnreadBody');
/** The most of an unread body that is read and dropped to keep a connection (more: it closes). */
const DRAIN_LIMIT = 8 * 1024 * 1024;

/**
 * A request its handler accepted (the gate let it through) that failed mid-body, storage full
 * say, keeps its connection: the rest of its body, if declared and at most DRAIN_LIMIT, is read
 * and dropped after the answer, under the same idle timeout as any upload. Anything else refused
 * with its body unread (an anonymous push's 401) closes the connection instead.
 */
export function drainAfterHandlerError(req: AnyRequest): boolean {
  const declared = Number(req.headers['content-length']);
  if (!(req as AnyRequest & { [DRAIN]?: 'handler' })[DRAIN] || !Number.isFinite(declared) || declared > DRAIN_LIMIT) return false;
  (req as AnyRequest & { [DRAIN]?: 'handler' | 'draining' })[DRAIN] = 'draining';
  req.resume();
  return true;
}

/** Marks a request as accepted by its handler (called by the dispatcher before the handler runs). */
export function handlerAccepted(req: AnyRequest): void {
  (req as AnyRequest & { [DRAIN]?: 'handler' })[DRAIN] = 'handler';
}

function draining(req: AnyRequest): boolean {
  return (req as AnyRequest & { [DRAIN]?: string })[DRAIN] === 'draining';
}

/** How long a cut request may take to be answered before its connection is closed regardless. */
const CLOSE_GRACE_MS = 5000;
type AnyResponse = ServerResponse | Http2ServerResponse;

/** Whether the request announced a body that has not fully arrived yet. */
export function bodyPending(req: AnyRequest): boolean {
  if (req.complete) return false;
  if ('stream' in req && req.stream) return !req.stream.endAfterHeaders;
  const length = req.headers['content-length'];
  if (length !== undefined) return Number(length) > 0;
  return req.headers['transfer-encoding'] !== undefined;
}

export function installBodyGuards(app: FastifyInstance, bodyIdleMs: number): void {
  const server = app.server as unknown as Server;
  if (bodyIdleMs > 0) {
    server.on('request', (req: AnyRequest, res: AnyResponse) => watchIdleBody(req, res, bodyIdleMs, app));
  }
  app.addHook('onSend', async (req, reply, payload) => {
    if (!bodyPending(req.raw) || draining(req.raw)) return payload;
    const raw = req.raw as AnyRequest;
    if ('stream' in raw && raw.stream) {
      // RFC 9113 8.1: after a complete response, RST_STREAM(NO_ERROR) asks the client to stop
      // sending without failing the request; the connection's other streams go on.
      const stream = raw.stream;
      // The stream's own 'finish' (its sending side done): the response's comes only on close.
      stream.once('finish', () => { if (!stream.destroyed) stream.close(h2.NGHTTP2_NO_ERROR); });
    } else {
      // Node then closes the connection once the answer is written.
      reply.header('Connection', 'close');
    }
    return payload;
  });
}

function watchIdleBody(req: AnyRequest, res: AnyResponse, idleMs: number, app: FastifyInstance): void {
  if (!bodyPending(req)) return;
  const timer = setTimeout(check, idleMs);
  // Every chunk of the body reaches the stream through push(); watching 'data' instead would
  // switch the stream to flowing mode under the handler that reads it.
  const stream = req as AnyRequest & { push(chunk: unknown, encoding?: BufferEncoding): boolean };
  const push = stream.push;
  stream.push = function (this: typeof stream, chunk: unknown, encoding?: BufferEncoding): boolean {
    if (chunk === null) stop();
    else timer.refresh();
    return push.call(this, chunk, encoding);
  };
  const stop = (): void => clearTimeout(timer);
  // The body may fail (below) before anything reads it; that must not be an unhandled error.
  req.on('error', () => undefined);
  req.once('close', stop);
  res.once('close', stop);

  function check(): void {
    if (req.complete || req.destroyed) return;
    // Bytes received but not yet read: Berth is the one behind, not the client.
    if (req.readableLength > 0) {
      timer.refresh();
      return;
    }
    app.log.info({ method: req.method, url: req.url, address: req.socket?.remoteAddress, idleMs }, 'request body idle too long: closing the connection');
    cut(req, res, idleMs);
  }
}

function cut(req: AnyRequest, res: AnyResponse, idleMs: number): void {
  const error = new RegistryError('UNAVAILABLE', `no part of the request body arrived for ${idleMs} ms (http.timeouts.bodyidle)`, { status: 408 });
  // The body fails with the 408: the handler reading it stops (nothing half-received is kept)
  // and the error hook answers, with Connection: close since the body never ended. An HTTP/1
  // request would take its socket down with it (no answer then): here only the stream ends.
  (req as AnyRequest & { _destroy(err: Error | null, cb: (err?: Error | null) => void): void })._destroy = (err, cb) => cb(err);
  req.destroy(error);
  // A request nobody answers (no handler reading, none responding) still loses its connection.
  const fallback = setTimeout(() => {
    if ('stream' in req && req.stream) {
      if (!req.stream.destroyed) req.stream.close(h2.NGHTTP2_CANCEL);
    } else {
      req.socket?.destroy();
    }
  }, CLOSE_GRACE_MS);
  fallback.unref();
  res.once('close', () => clearTimeout(fallback));
  // HTTP/2 keeps a stream whose body was read from open after the answer: end it there.
  if ('stream' in req && req.stream) {
    const stream = req.stream;
    stream.once('finish', () => { if (!stream.destroyed) stream.close(h2.NGHTTP2_NO_ERROR); });
  }
}
