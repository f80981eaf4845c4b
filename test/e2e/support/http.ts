// Raw HTTP for the e2e tests: streamed request bodies (never held in memory), streamed and
// hashed response bodies, and a request that is cut off mid-body on purpose.
import { request, type IncomingHttpHeaders } from 'node:http';
import { connect, type Socket } from 'node:net';
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface SmallReply {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/** Sends `body` as a stream (with the given headers, e.g. Content-Length) and reads a small reply. */
export function streamRequest(url: string, method: string, headers: Record<string, string>, body?: Readable): Promise<SmallReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, headers }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    if (body) pipeline(body, req).catch(reject);
    else req.end();
  });
}

export interface HashedReply {
  status: number;
  headers: IncomingHttpHeaders;
  bytes: number;
  digest: string;
}

/** GETs a (large) body, hashing it as it streams; nothing is kept but the hash. */
export function hashedGet(url: string, headers: Record<string, string> = {}): Promise<HashedReply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'GET', headers }, (res) => {
      const hash = createHash('sha256');
      let bytes = 0;
      res.on('data', (c: Buffer) => {
        bytes += c.length;
        hash.update(c);
      });
      res.on('error', reject);
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, bytes, digest: `sha256:${hash.digest('hex')}` }));
    });
    req.on('error', reject);
    req.end();
  });
}

/**
 * Opens a raw TCP connection and sends a request head plus the first part of a body that
 * `Content-Length` says is longer. The caller destroys the socket to vanish mid-body.
 */
export async function partialRequest(base: string, head: string, firstPart: Buffer): Promise<Socket> {
  const url = new URL(base);
  const socket = connect(Number(url.port), url.hostname);
  socket.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  await write(socket, Buffer.from(head, 'latin1'));
  const step = 64 * 1024;
  for (let off = 0; off < firstPart.length; off += step) await write(socket, firstPart.subarray(off, off + step));
  return socket;
}

function write(socket: Socket, data: Buffer): Promise<void> {
  return new Promise((resolve, reject) => socket.write(data, (err) => (err ? reject(err) : resolve())));
}

/** A body of `blocks` x `blockSize` bytes, made block by block; block i is `base` stamped with i. */
export class PatternBlob {
  readonly size: number;

  constructor(readonly base: Buffer, readonly blocks: number) {
    this.size = base.length * blocks;
  }

  block(i: number): Buffer {
    const b = Buffer.from(this.base);
    b.writeBigUInt64BE(BigInt(i), 0);
    return b;
  }

  /** A stream of the whole body; `hash` sees every byte as it is generated. */
  stream(hash?: ReturnType<typeof createHash>): Readable {
    const self = this;
    return Readable.from((function* generate() {
      for (let i = 0; i < self.blocks; i++) {
        const b = self.block(i);
        hash?.update(b);
        yield b;
      }
    })(), { objectMode: false, highWaterMark: 4 * self.base.length });
  }

  /** Bytes [start, end] (inclusive), computed from the blocks they fall in. */
  range(start: number, end: number): Buffer {
    const bs = this.base.length;
    const parts: Buffer[] = [];
    for (let i = Math.floor(start / bs); i <= Math.floor(end / bs); i++) {
      const b = this.block(i);
      const from = Math.max(start - i * bs, 0);
      const to = Math.min(end - i * bs, bs - 1);
      parts.push(b.subarray(from, to + 1));
    }
    return Buffer.concat(parts);
  }
}
