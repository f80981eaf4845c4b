// Test servers listen on a free loopback port only; this is the one way they get it.
import type { Server } from 'node:net';

export async function listenLoopback(server: Server): Promise<{ host: string; url: string }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const addr = server.address();
  if (!addr || typeof addr === 'string') throw new Error('no address');
  const host = `127.0.0.1:${addr.port}`;
  return { host, url: `http://${host}` };
}
