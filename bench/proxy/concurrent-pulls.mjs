#!/usr/bin/env node
// Pull-through cache: wall time of N concurrent pulls of one UNCACHED blob through Berth-as-mirror,
// against one pull of an uncached blob of the same size (the single-flight ratio), plus N
// concurrent pulls of a cached blob and one pull straight from the upstream for reference.
// Every client hashes what it receives (as real clients do). Both registries run in this process.
//   node bench/proxy/concurrent-pulls.mjs [sizeMiB=100] [clients=50] [runs=3]
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dist = new URL('../../dist/src/', import.meta.url);
const { loadConfig } = await import(new URL('config/load.js', dist));
const { startServer } = await import(new URL('cli/serve.js', dist));

const sizeMiB = Number(process.argv[2] ?? 100);
const clients = Number(process.argv[3] ?? 50);
const runs = Number(process.argv[4] ?? 3);
const size = sizeMiB * 1024 * 1024;

async function start(root, proxy) {
  const { config } = loadConfig({ env: {
    REGISTRY_HTTP_ADDR: '127.0.0.1:0', REGISTRY_LOG_LEVEL: 'error', REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
    REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: root, REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED: 'false',
  } });
  if (proxy) config.proxy.upstreams = [{ name: 'hub', remoteurl: proxy, namespaces: [], root: false, ttl: '1h', timeout: '30s', tls: { insecureskipverify: false }, maxsize: '0', maxage: '0', breakerthreshold: 5, breakercooldown: '30s' }];
  const server = await startServer(config);
  return { server, url: `http://127.0.0.1:${server.app.server.address().port}` };
}

async function push(url, name) {
  // Random content generated on the fly and hashed twice (digest first, then the upload), never held whole.
  const seed = randomBytes(32);
  const chunk = (i) => createHash('sha512').update(seed).update(String(i)).digest();
  const chunks = Math.ceil(size / 64);
  const gen = function* () {
    let sent = 0;
    for (let i = 0; sent < size; i++) {
      const block = Buffer.concat(Array.from({ length: 1024 }, (_, j) => chunk(i * 1024 + j))).subarray(0, Math.min(65536, size - sent));
      sent += block.length;
      yield block;
    }
  };
  void chunks;
  const h = createHash('sha256');
  for (const b of gen()) h.update(b);
  const digest = `sha256:${h.digest('hex')}`;
  const body = ReadableStream.from(gen());
  const res = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${digest}`, { method: 'POST', body, duplex: 'half', headers: { 'content-length': String(size) } });
  await res.arrayBuffer();
  if (res.status !== 201) throw new Error(`push: ${res.status}`);
  return digest;
}

async function pullOne(url, name, digest) {
  const res = await fetch(`${url}/v2/${name}/blobs/${digest}`);
  const h = createHash('sha256');
  for await (const c of res.body) h.update(c);
  if (res.status !== 200 || `sha256:${h.digest('hex')}` !== digest) throw new Error(`pull ${name}@${digest}: ${res.status}`);
}

async function timed(fn) {
  const t = performance.now();
  await fn();
  return (performance.now() - t) / 1000;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

const dirs = [await mkdtemp(join(tmpdir(), 'berth-bench-up-')), await mkdtemp(join(tmpdir(), 'berth-bench-mirror-'))];
const up = await start(dirs[0]);
const mirror = await start(dirs[1], up.url);
const rows = { direct: [], single: [], concurrent: [], warm: [] };
try {
  for (let r = 0; r < runs; r++) {
    const a = await push(up.url, `bench/a${r}`);
    const b = await push(up.url, `bench/b${r}`);
    rows.direct.push(await timed(() => pullOne(up.url, `bench/a${r}`, a)));
    rows.single.push(await timed(() => pullOne(mirror.url, `hub/bench/a${r}`, a)));
    rows.concurrent.push(await timed(() => Promise.all(Array.from({ length: clients }, () => pullOne(mirror.url, `hub/bench/b${r}`, b)))));
    rows.warm.push(await timed(() => Promise.all(Array.from({ length: clients }, () => pullOne(mirror.url, `hub/bench/b${r}`, b)))));
    process.stderr.write(`run ${r + 1}/${runs}: direct ${rows.direct[r].toFixed(2)} s, 1 cold ${rows.single[r].toFixed(2)} s, ${clients} cold ${rows.concurrent[r].toFixed(2)} s, ${clients} warm ${rows.warm[r].toFixed(2)} s\n`);
  }
} finally {
  await mirror.server.close();
  await up.server.close();
  for (const d of dirs) await rm(d, { recursive: true, force: true });
}
const m = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, median(v)]));
console.log(`| ${sizeMiB} MiB blob, median of ${runs} | wall time |`);
console.log('| --- | --- |');
console.log(`| 1 pull straight from the upstream | ${m.direct.toFixed(2)} s |`);
console.log(`| 1 pull through the mirror, uncached | ${m.single.toFixed(2)} s |`);
console.log(`| ${clients} concurrent pulls through the mirror, uncached | ${m.concurrent.toFixed(2)} s (${(m.concurrent / m.single).toFixed(1)}x one pull) |`);
console.log(`| ${clients} concurrent pulls through the mirror, cached | ${m.warm.toFixed(2)} s (${(m.warm / m.single).toFixed(1)}x one pull) |`);
