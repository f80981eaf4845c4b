// A stand-in for CloudFront on 127.0.0.1: checks a canned-policy signed URL the way CloudFront
// does (Key-Pair-Id known, Expires in the future, RSA-SHA1 signature over the policy verified
// with the public key), then serves the object from the bucket behind it (origin path '/' as
// for registry:2: the URL path is the full key, rootdirectory included). Anything else gets
// 403. It counts the bytes it serves.
import { createServer, type Server } from 'node:http';
import { verify, type KeyObject } from 'node:crypto';
import type { Readable } from 'node:stream';
import { GetObjectCommand, type S3Client } from '@aws-sdk/client-s3';
import { onFreePort } from '../../e2e/support/env.js';

export interface EdgeOptions {
  publicKey: KeyObject;
  keyPairId: string;
  client: S3Client;
  bucket: string;
  /** The bucket prefix the edge's paths live under (CloudFront's origin path). */
  originPath: string;
}

export interface Edge {
  url: string;
  bytesServed: number;
  served: string[];
  refused: Array<{ path: string; why: string }>;
  close(): Promise<void>;
}

export function startEdge(o: EdgeOptions): Promise<Edge> {
  return onFreePort((port) => listen(o, port), (err) => /EADDRINUSE/.test(String(err)));
}

async function listen(o: EdgeOptions, port: number): Promise<Edge> {
  const base = `http://127.0.0.1:${port}`;
  const edge: Edge = { url: base, bytesServed: 0, served: [], refused: [], close: async () => undefined };
  const server: Server = createServer((req, res) => {
    void (async () => {
      const u = new URL(req.url ?? '/', base);
      const why = refusal(o, `${base}${u.pathname}`, u.searchParams);
      if (why) {
        edge.refused.push({ path: u.pathname, why });
        res.writeHead(403, { 'Content-Type': 'text/plain' }).end(`forbidden: ${why}\n`);
        return;
      }
      try {
        const key = `${o.originPath.replace(/^\/+|\/+$/g, '')}${u.pathname}`.replace(/^\/+/, '');
        const range = req.headers.range;
        const obj = await o.client.send(new GetObjectCommand({ Bucket: o.bucket, Key: key, ...(range ? { Range: range } : {}) }));
        res.writeHead(range ? 206 : 200, {
          'Content-Type': 'application/octet-stream',
          ...(obj.ContentLength !== undefined ? { 'Content-Length': obj.ContentLength } : {}),
          ...(obj.ContentRange ? { 'Content-Range': obj.ContentRange } : {}),
        });
        if (req.method === 'HEAD') return void res.end();
        const body = obj.Body as Readable;
        body.on('data', (chunk: Buffer) => { edge.bytesServed += chunk.length; });
        body.pipe(res);
        body.on('end', () => edge.served.push(u.pathname));
      } catch (err) {
        const status = (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode ?? 502;
        res.writeHead(status === 404 ? 404 : 502).end();
      }
    })();
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  edge.close = () => new Promise((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return edge;
}

/** Why CloudFront would refuse this URL, or '' when it is validly signed and not expired. */
function refusal(o: EdgeOptions, resource: string, q: URLSearchParams): string {
  const expires = q.get('Expires');
  const signature = q.get('Signature');
  const keyPairId = q.get('Key-Pair-Id');
  if (!expires || !signature || !keyPairId) return 'missing Expires, Signature or Key-Pair-Id';
  if (keyPairId !== o.keyPairId) return `unknown key pair ${keyPairId}`;
  if (!/^\d+$/.test(expires) || Number(expires) * 1000 <= Date.now()) return 'expired';
  // Written out here, not imported from Berth: the edge checks Berth, it must not share its code.
  const policy = `{"Statement":[{"Resource":"${resource}","Condition":{"DateLessThan":{"AWS:EpochTime":${expires}}}}]}`;
  const sig = Buffer.from(signature.replace(/-/g, '+').replace(/_/g, '=').replace(/~/g, '/'), 'base64');
  if (!verify('RSA-SHA1', Buffer.from(policy), o.publicKey, sig)) return 'bad signature';
  return '';
}
