// Replication vs `skopeo sync`: the same N generated images (shared base layers) copied from one
// Berth to a fresh Berth and to a fresh Distribution (Debian's docker-registry), once by a Berth
// push policy (`berth replication run --wait`) and once by `skopeo sync`. Measures wall time,
// bytes sent to the destination (a counting TCP proxy in front of each destination) and peak
// RSS (the source Berth's growth while it replicates; skopeo's maximum RSS from /usr/bin/time).
// Usage: node bench/replication/sync.mjs [images=200] [baseLayers=3] [baseKiB=1024] [ownKiB=64]
// Needs skopeo, docker-registry and /usr/bin/time; a built dist/. Everything on 127.0.0.1.
import { spawn, execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile, readFile } from 'node:fs/promises';
import { createServer, connect } from 'node:net';
import { tmpdir, loadavg } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';

const run = promisify(execFile);
const [IMAGES, BASE_LAYERS, BASE_KIB, OWN_KIB] = process.argv.slice(2).map(Number);
const images = IMAGES || 200;
const baseLayers = BASE_LAYERS || 3;
const baseKiB = BASE_KIB || 1024;
const ownKiB = OWN_KIB || 64;
// BENCH_BERTH: another build's bin/berth.js (before/after comparisons on the same machine state).
const BERTH = process.env.BENCH_BERTH ?? new URL('../../bin/berth.js', import.meta.url).pathname;
const work = await mkdtemp(join(tmpdir(), 'berth-repl-bench-'));
const children = [];
process.on('exit', () => { for (const c of children) try { c.kill('SIGKILL'); } catch {} });

const freePort = () => new Promise((resolve) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => resolve(port)); }); });
const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

async function waitUp(url, status) {
  for (let i = 0; i < 300; i++) {
    const got = await fetch(`${url}/v2/`).then((r) => r.status, () => 0);
    if (got === status) return;
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url} did not come up`);
}

async function startBerth(name, configText) {
  const port = await freePort();
  const config = join(work, `${name}.yml`);
  await writeFile(config, configText.replace('ADDR', `127.0.0.1:${port}`));
  const child = spawn(process.execPath, [...(process.env.BENCH_NODE_ARGS ?? '').split(' ').filter(Boolean), BERTH, 'serve', config], { stdio: ['ignore', 'ignore', 'inherit'] });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, 200);
  return { url, host: `127.0.0.1:${port}`, config, child };
}

const berthConfig = (name, extra = '') => `version: 0.1
log: {level: error, accesslog: {disabled: true}}
storage: {filesystem: {rootdirectory: ${join(work, name)}}, delete: {enabled: true}, maintenance: {uploadpurging: {enabled: false}}}
http: {addr: ADDR}
${extra}`;

async function startDistribution(name) {
  const port = await freePort();
  const config = join(work, `${name}.yml`);
  await writeFile(config, `version: 0.1\nlog: {level: error, accesslog: {disabled: true}}\nstorage: {filesystem: {rootdirectory: ${join(work, name)}}, delete: {enabled: true}}\nhttp: {addr: 127.0.0.1:${port}}\n`);
  const child = spawn('docker-registry', ['serve', config], { stdio: 'ignore' });
  children.push(child);
  const url = `http://127.0.0.1:${port}`;
  await waitUp(url, 200);
  return { url, host: `127.0.0.1:${port}`, child };
}

/** A TCP proxy counting the bytes clients send to `target` (what a copy costs the network). */
async function countingProxy(target) {
  const [host, port] = target.split(':');
  const counts = { up: 0, down: 0, connections: 0, requests: {} };
  const server = createServer((socket) => {
    const upstream = connect(Number(port), host);
    counts.connections++;
    socket.on('data', (d) => {
      counts.up += d.length;
      // Requests by method (a request's head arrives at the start of a write): round trips per image.
      const m = /^(GET|HEAD|PUT|POST|PATCH|DELETE) /.exec(d.subarray(0, 8).toString('latin1'));
      if (m) counts.requests[m[1]] = (counts.requests[m[1]] ?? 0) + 1;
    });
    upstream.on('data', (d) => { counts.down += d.length; });
    socket.pipe(upstream).pipe(socket);
    socket.on('error', () => upstream.destroy());
    upstream.on('error', () => socket.destroy());
  });
  const p = await new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server.address().port)));
  return { host: `127.0.0.1:${p}`, url: `http://127.0.0.1:${p}`, counts, close: () => server.close() };
}

async function pushBlob(base, repo, data) {
  const digest = sha(data);
  const head = await fetch(`${base}/v2/${repo}/blobs/${digest}`, { method: 'HEAD' });
  if (head.status === 200) return digest;
  const r = await fetch(`${base}/v2/${repo}/blobs/uploads/?digest=${digest}`, { method: 'POST', body: data, headers: { 'content-type': 'application/octet-stream' } });
  if (r.status !== 201) throw new Error(`blob push ${r.status}`);
  return digest;
}

async function seed(base) {
  // Real gzip streams: skopeo compresses layers it finds uncompressed (changing their digests).
  const shared = Array.from({ length: baseLayers }, () => gzipSync(randomBytes(baseKiB * 1024), { level: 1 }));
  let bytes = 0;
  const names = [];
  for (let i = 0; i < images; i++) {
    const repo = `bench/img-${String(i).padStart(3, '0')}`;
    const own = gzipSync(randomBytes(ownKiB * 1024), { level: 1 });
    const layers = [...shared, own];
    const descs = [];
    for (const l of layers) descs.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: await pushBlob(base, repo, l), size: l.length });
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', rootfs: { type: 'layers', diff_ids: descs.map((d) => d.digest) }, created: new Date(0).toISOString(), n: i }));
    const configDigest = await pushBlob(base, repo, config);
    const manifest = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configDigest, size: config.length }, layers: descs }));
    const r = await fetch(`${base}/v2/${repo}/manifests/v1`, { method: 'PUT', body: manifest, headers: { 'content-type': 'application/vnd.oci.image.manifest.v1+json' } });
    if (r.status !== 201) throw new Error(`manifest push ${r.status}`);
    bytes += own.length + config.length + manifest.length;
    names.push(repo);
  }
  bytes += shared.reduce((n, l) => n + l.length, 0);
  return { names, uniqueBytes: bytes };
}

/** CPU seconds (user + system) a process has used: comparable across runs on a loaded machine, where wall time is not. */
const cpu = (pid) => readFile(`/proc/${pid}/stat`, 'utf8').then((s) => { const f = s.slice(s.lastIndexOf(')') + 2).split(' '); return (Number(f[11]) + Number(f[12])) / 100; });

const kib = (pid) => readFile(`/proc/${pid}/status`, 'utf8').then((s) => Number(/VmRSS:\s+(\d+)/.exec(s)[1]) * 1024);

/** Samples a process's RSS every 100 ms until stopped; the peak during the run. */
function rssSampler(pid) {
  let peak = 0;
  const t = setInterval(() => { kib(pid).then((v) => { peak = Math.max(peak, v); }, () => undefined); }, 100);
  return async () => { clearInterval(t); peak = Math.max(peak, await kib(pid)); return peak; };
}

async function checkDigests(base, destName, names, source) {
  let same = 0;
  for (const n of names) {
    const get = (b, repo) => fetch(`${b}/v2/${repo}/manifests/v1`, { method: 'HEAD', headers: { accept: 'application/vnd.oci.image.manifest.v1+json' } }).then((r) => r.headers.get('docker-content-digest'));
    if ((await get(base, destName(n))) === (await get(source, n))) same++;
  }
  return same;
}

const mib = (n) => (n / 1048576).toFixed(1);
const results = [];

const source = await startBerth('source', berthConfig('source'));
const { names, uniqueBytes } = await seed(source.url);
console.error(`seeded ${names.length} images, ${mib(uniqueBytes)} MiB of distinct content`);

// BENCH_DEST=berth|distribution and BENCH_TOOLS=berth|skopeo narrow a run (both by default).
const kinds = (process.env.BENCH_DEST ?? 'berth,distribution').split(',');
const tools = (process.env.BENCH_TOOLS ?? 'berth,skopeo').split(',');
for (const kind of kinds) {
  // Berth's replication: a push policy run by hand (schedule never due) on a restarted source.
  if (tools.includes('berth')) {
  const dest = kind === 'berth' ? await startBerth(`dest-repl-${kind}`, berthConfig(`dest-repl-${kind}`)) : await startDistribution(`dest-repl-${kind}`);
  const proxy = await countingProxy(dest.host);
  const policyConfig = berthConfig('source', `replication:
  poll: 200ms
  endpoints: [{name: dest, url: ${proxy.url}}]
  policies: [{name: bench, direction: push, endpoint: dest, repositories: ["bench/*"], trigger: {schedule: "0 0 1 1 *"}, concurrency: 8}]
`);
  source.child.kill('SIGTERM');
  await new Promise((r) => source.child.once('exit', r));
  const replicating = await startBerth(`source-${kind}`, policyConfig);
  source.child = replicating.child;
  Object.assign(source, { url: replicating.url, host: replicating.host });
  const before = await kib(replicating.child.pid);
  const sample = rssSampler(replicating.child.pid);
  const cpu0 = [await cpu(replicating.child.pid), await cpu(dest.child.pid)];
  let t0 = performance.now();
  const out = await run(process.execPath, [BERTH, 'replication', 'run', 'bench', '--wait', '--json', '--config', replicating.config], { maxBuffer: 1 << 24 });
  const replSeconds = (performance.now() - t0) / 1000;
  const cpu1 = [await cpu(replicating.child.pid), await cpu(dest.child.pid)];
  const job = JSON.parse(out.stdout);
  const peak = await sample();
  const replSame = await checkDigests(dest.url, (n) => n, names, source.url);
  results.push({ tool: 'berth replication', to: kind, seconds: replSeconds, sentMiB: mib(proxy.counts.up), sameDigests: replSame, rss: `source +${mib(peak - before)} MiB (peak ${mib(peak)} MiB)`, detail: `job images=${job.images} bytes=${job.bytes} failed=${job.failed}`, cpu: `source ${(cpu1[0] - cpu0[0]).toFixed(1)} s, destination ${(cpu1[1] - cpu0[1]).toFixed(1)} s`, connections: proxy.counts.connections, requests: proxy.counts.requests });
  proxy.close();
  }
  if (!tools.includes('skopeo')) continue;

  // skopeo sync of the same tags into a fresh destination of the same kind.
  const dest2 = kind === 'berth' ? await startBerth(`dest-skopeo-${kind}`, berthConfig(`dest-skopeo-${kind}`)) : await startDistribution(`dest-skopeo-${kind}`);
  const proxy2 = await countingProxy(dest2.host);
  const yaml = join(work, `sync-${kind}.yml`);
  await writeFile(yaml, `${source.host}:\n  tls-verify: false\n  images:\n${names.map((n) => `    ${n}: [v1]`).join('\n')}\n`);
  const scpu0 = [await cpu(source.child.pid), await cpu(dest2.child.pid)];
  const t1 = performance.now();
  const sk = await run('/usr/bin/time', ['-f', '%U %S %M', 'skopeo', 'sync', '--src', 'yaml', '--dest', 'docker', '--dest-tls-verify=false', yaml, `${proxy2.host}/s`], { maxBuffer: 1 << 26 });
  const skSeconds = (performance.now() - t1) / 1000;
  const [skUser, skSys, skKib] = sk.stderr.trim().split('\n').pop().split(' ').map(Number);
  const skRss = skKib * 1024;
  const scpu1 = [await cpu(source.child.pid), await cpu(dest2.child.pid)];
  // skopeo sync from a YAML source puts each image under the destination by its last path component.
  const skSame = await checkDigests(dest2.url, (n) => `s/${n.split('/').pop()}`, names, source.url);
  results.push({ tool: 'skopeo sync', to: kind, seconds: skSeconds, sentMiB: mib(proxy2.counts.up), sameDigests: skSame, rss: `skopeo ${mib(skRss)} MiB`, detail: '', cpu: `source ${(scpu1[0] - scpu0[0]).toFixed(1)} s, destination ${(scpu1[1] - scpu0[1]).toFixed(1)} s, skopeo ${(skUser + skSys).toFixed(1)} s`, connections: proxy2.counts.connections, requests: proxy2.counts.requests });
  proxy2.close();
}

const report = {
  when: new Date().toISOString(), load: loadavg().map((x) => x.toFixed(1)).join(' '),
  images, baseLayers, baseKiB, ownKiB, distinctMiB: mib(uniqueBytes), results,
};
console.log(JSON.stringify(report, null, 2));
console.log('\n| tool | destination | wall s | CPU s | MiB sent | requests | connections | same digests | RSS |');
console.log('| --- | --- | ---: | --- | ---: | ---: | ---: | ---: | --- |');
for (const r of results) console.log(`| ${r.tool} | ${r.to} | ${r.seconds.toFixed(1)} | ${r.cpu} | ${r.sentMiB} | ${Object.values(r.requests).reduce((a, b) => a + b, 0)} | ${r.connections} | ${r.sameDigests}/${images} | ${r.rss} |`);
for (const c of children) c.kill('SIGTERM');
await new Promise((r) => setTimeout(r, 500));
await rm(work, { recursive: true, force: true });
process.exit(0);
