// A webhook endpoint for tests: records every envelope POSTed to it and answers with a status
// the test chooses.
import { createServer, type Server } from 'node:http';
import type { DistributionEvent } from '../../src/events/envelope.js';

export interface Receiver {
  url: string;
  port: number;
  events: DistributionEvent[];
  requests: Array<{ contentType: string | undefined; headers: Record<string, string | string[] | undefined>; count: number }>;
  /** Status answered from now on. */
  status: number;
  /** How long each answer waits (a slow endpoint keeps a batch in flight). */
  delayMs: number;
  waitFor(count: number, timeoutMs?: number): Promise<DistributionEvent[]>;
  close(): Promise<void>;
}

export async function startReceiver(port = 0): Promise<Receiver> {
  const r: Receiver = {
    url: '', port: 0, events: [], requests: [], status: 200, delayMs: 0,
    async waitFor(count, timeoutMs = 20_000) {
      const end = Date.now() + timeoutMs;
      while (r.events.length < count && Date.now() < end) await new Promise((res) => setTimeout(res, 50));
      return r.events;
    },
    close: async () => undefined,
  };
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      if (r.status < 300) {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { events: DistributionEvent[] };
        r.events.push(...body.events);
        r.requests.push({ contentType: req.headers['content-type'], headers: req.headers, count: body.events.length });
      }
      res.statusCode = r.status;
      if (r.delayMs > 0) setTimeout(() => res.end(), r.delayMs);
      else res.end();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  r.port = (server.address() as { port: number }).port;
  r.url = `http://127.0.0.1:${r.port}/events`;
  r.close = () => new Promise<void>((resolve) => {
    server.closeAllConnections();
    server.close(() => resolve());
  });
  return r;
}
