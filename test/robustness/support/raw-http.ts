// Requests written byte for byte on a TCP socket, for what fetch and node:http refuse to send
// (conflicting framing headers, lying Content-Length, non-UTF-8 paths, partial heads), and a
// reader that splits whatever the server answers into responses.
import { connect, type Socket } from 'node:net';

export interface RawResponse {
  status: number;
  /** Lower-cased header names. */
  headers: Record<string, string>;
  body: Buffer;
}

export interface RawExchange {
  /** Every complete response the server sent, in order. */
  responses: RawResponse[];
  /** Whether the server closed the connection (rather than the client timing out). */
  closedByServer: boolean;
  /** All bytes received. */
  received: Buffer;
}

export interface RawOptions {
  /** Give up waiting for the server after this long (the client then closes). */
  timeoutMs?: number;
  /** Close the client side right after writing (no half-close otherwise). */
  endAfterWrite?: boolean;
  /** Stop reading once this many responses have arrived. */
  expectResponses?: number;
}

/** Opens a connection to `base` (http://host:port). */
export function openSocket(base: string): Promise<Socket> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(url.port), url.hostname, () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Writes `bytes` and collects what comes back until the server closes or `timeoutMs` passes. */
export async function rawExchange(base: string, bytes: Buffer | string, options: RawOptions = {}): Promise<RawExchange> {
  const socket = await openSocket(base);
  return exchangeOn(socket, bytes, options);
}

export function exchangeOn(socket: Socket, bytes: Buffer | string | undefined, options: RawOptions = {}): Promise<RawExchange> {
  const timeoutMs = options.timeoutMs ?? 5000;
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let done = false;
    const finish = (closedByServer: boolean): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      const received = Buffer.concat(chunks);
      resolve({ responses: parseResponses(received), closedByServer, received });
    };
    const timer = setTimeout(() => finish(false), timeoutMs);
    socket.on('data', (c: Buffer) => {
      chunks.push(c);
      if (options.expectResponses !== undefined && parseResponses(Buffer.concat(chunks)).length >= options.expectResponses) finish(false);
    });
    socket.on('end', () => finish(true));
    socket.on('close', () => finish(true));
    socket.on('error', () => finish(true));
    if (bytes !== undefined) socket.write(bytes, () => { if (options.endAfterWrite) socket.end(); });
  });
}

/** Splits a byte stream into complete HTTP/1.1 responses (Content-Length or chunked bodies). */
export function parseResponses(data: Buffer): RawResponse[] {
  const out: RawResponse[] = [];
  let pos = 0;
  for (;;) {
    const headEnd = data.indexOf('\r\n\r\n', pos);
    if (headEnd < 0) return out;
    const lines = data.subarray(pos, headEnd).toString('latin1').split('\r\n');
    const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
    if (!m) return out;
    const headers: Record<string, string> = {};
    for (const line of lines.slice(1)) {
      const i = line.indexOf(':');
      if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
    }
    let bodyStart = headEnd + 4;
    let body: Buffer;
    if (headers['transfer-encoding']?.toLowerCase() === 'chunked') {
      const parts: Buffer[] = [];
      for (;;) {
        const lineEnd = data.indexOf('\r\n', bodyStart);
        if (lineEnd < 0) return out;
        const size = parseInt(data.subarray(bodyStart, lineEnd).toString('latin1'), 16);
        if (Number.isNaN(size)) return out;
        if (size === 0) {
          const trailerEnd = data.indexOf('\r\n\r\n', lineEnd);
          if (trailerEnd < 0) return out;
          bodyStart = trailerEnd + 4;
          break;
        }
        if (data.length < lineEnd + 2 + size + 2) return out;
        parts.push(data.subarray(lineEnd + 2, lineEnd + 2 + size));
        bodyStart = lineEnd + 2 + size + 2;
      }
      body = Buffer.concat(parts);
      pos = bodyStart;
    } else {
      const length = Number(headers['content-length'] ?? 0);
      if (data.length < bodyStart + length) return out;
      body = data.subarray(bodyStart, bodyStart + length);
      pos = bodyStart + length;
    }
    out.push({ status: Number(m[1]), headers, body });
  }
}

/** A request head (request line, headers, blank line) in CRLF form. */
export function head(requestLine: string, headers: string[]): string {
  return [requestLine, ...headers, '', ''].join('\r\n');
}
