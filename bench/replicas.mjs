#!/usr/bin/env node
// Capacity of one Berth replica, for the README's arithmetic: manifest GETs per second (what a
// pull costs the registry when blobs are redirected to S3/CDN) and blob bytes per second (what
// it costs when bytes flow through Berth). Seeds one image into the registry it is given.
//
//   node bench/replicas.mjs http://127.0.0.1:5000 [seconds=10] [manifestClients=32] [blobClients=4]
//
// Point it at one replica (not nginx) to get per-replica numbers; run it several times.
import { createHash, randomBytes } from 'node:crypto';
import { Agent, request } from 'undici';

const [base, secondsArg = '10', mcArg = '32', bcArg = '4'] = process.argv.slice(2);
if (!base) {
  process.stderr.write('usage: node bench/replicas.mjs REGISTRY_URL [seconds] [manifestClients] [blobClients]\n');
  process.exit(2);
}
const seconds = Number(secondsArg);
const agent = new Agent({ connections: 64, pipelining: 1 });
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function put(path, body, headers) {
  const res = await request(`${base}${path}`, { method: path.includes('/manifests/') ? 'PUT' : 'POST', body, headers, dispatcher: agent });
  await res.body.dump();
  if (res.statusCode !== 201) throw new Error(`${path}: ${res.statusCode}`);
}

const blob = randomBytes(16 * 1024 * 1024);
const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
for (const b of [blob, config]) await put(`/v2/bench/replicas/blobs/uploads/?digest=${sha(b)}`, b, { 'content-type': 'application/octet-stream' });
const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: sha(config), size: config.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: sha(blob), size: blob.length }],
}));
await put('/v2/bench/replicas/manifests/v1', manifest, { 'content-type': 'application/vnd.oci.image.manifest.v1+json' });

async function load(clients, path, headers) {
  const end = Date.now() + seconds * 1000;
  let requests = 0;
  let bytes = 0;
  let errors = 0;
  await Promise.all(Array.from({ length: clients }, async () => {
    while (Date.now() < end) {
      const res = await request(`${base}${path}`, { headers, dispatcher: agent });
      for await (const chunk of res.body) bytes += chunk.length;
      if (res.statusCode === 200) requests++;
      else errors++;
    }
  }));
  return { rps: requests / seconds, bytesPerSecond: bytes / seconds, errors };
}

const accept = { accept: 'application/vnd.oci.image.manifest.v1+json' };
const m = await load(Number(mcArg), '/v2/bench/replicas/manifests/v1', accept);
const b = await load(Number(bcArg), `/v2/bench/replicas/blobs/${sha(blob)}`, {});
const out = {
  when: new Date().toISOString(), load: (await import('node:os')).loadavg().map((x) => x.toFixed(1)).join(' '), seconds,
  manifestGet: { clients: Number(mcArg), rps: Math.round(m.rps), errors: m.errors },
  blobGet16MiB: { clients: Number(bcArg), rps: +b.rps.toFixed(1), MBps: Math.round(b.bytesPerSecond / 1e6), errors: b.errors },
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
await agent.close();
