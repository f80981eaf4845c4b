#!/usr/bin/env node
// Catalog at scale: 10,000 repositories written straight into storage in Distribution's v2 layout
// (one shared image; per repository its two layer links, its revision link and one tag), then GET /v2/_catalog?n=100
// and ?n=100&last=<middle> timed on Berth (listing index, built from storage at first start) and
// on Debian's docker-registry (Distribution 2.8, which walks storage), on the filesystem and on
// radosgw. Seeding is done before either server starts: it is not measured. See README.md.
//   node bench/catalog/bench.mjs [--repos 10000] [--backends fs,s3] [--runs 20] [--cap 120]
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(fileURLToPath(new URL('../..', import.meta.url)));
const args = Object.fromEntries(process.argv.slice(2).reduce((acc, a, i, all) => (a.startsWith('--') ? [...acc, [a.slice(2), all[i + 1]]] : acc), []));
const REPOS = Number(args.repos ?? 10_000);
const BACKENDS = (args.backends ?? 'fs,s3').split(',');
const RUNS = Number(args.runs ?? 20);
const CAP_S = Number(args.cap ?? 120);
const log = (m) => process.stderr.write(`[catalog-bench ${new Date().toISOString().slice(11, 19)}] ${m}\n`);
const sha = (data) => createHash('sha256').update(data).digest('hex');
const names = Array.from({ length: REPOS }, (_, i) => `bench/team${String(i % 100).padStart(3, '0')}/app${String(i).padStart(5, '0')}`).sort();
const middle = names[Math.floor(REPOS / 2)];

const config = Buffer.from('{"architecture":"amd64","os":"linux"}');
const layer = Buffer.from('catalog bench layer');
const manifest = Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${sha(config)}`, size: config.length },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${sha(layer)}`, size: layer.length }],
}));
const M = sha(manifest);

/** Every object of the seeded registry as [path under the v2 root, content]. */
function* objects() {
  for (const data of [config, layer, manifest]) yield [`blobs/sha256/${sha(data).slice(0, 2)}/${sha(data)}/data`, data];
  for (const name of names) {
    const r = `repositories/${name}/_manifests`;
    yield [`${r}/revisions/sha256/${M}/link`, `sha256:${M}`];
    yield [`${r}/tags/v1/current/link`, `sha256:${M}`];
    yield [`${r}/tags/v1/index/sha256/${M}/link`, `sha256:${M}`];
    // Distribution 2.8's catalog lists directories holding `_layers` (Berth's, `_manifests`).
    for (const data of [config, layer]) yield [`repositories/${name}/_layers/sha256/${sha(data)}/link`, `sha256:${sha(data)}`];
  }
}

async function pool(items, limit, work) {
  let i = 0;
  await Promise.all(Array.from({ length: limit }, async () => { for (let k = i++; k < items.length; k = i++) await work(items[k]); }));
}

async function seedFs(root) {
  await pool([...objects()], 64, async ([path, data]) => {
    const full = join(root, 'docker/registry/v2', path);
    await mkdir(full.slice(0, full.lastIndexOf('/')), { recursive: true });
    await writeFile(full, data);
  });
}

async function seedS3(s3, bucket) {
  const { PutObjectCommand, CreateBucketCommand } = await import('@aws-sdk/client-s3');
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const all = [...objects()];
  let done = 0;
  await pool(all, 64, async ([path, data]) => {
    await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `docker/registry/v2/${path}`, Body: data }));
    if (++done % 5000 === 0) log(`  seeded ${done}/${all.length} objects`);
  });
}

function freePort() {
  return new Promise((res) => { const s = createServer().listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); }); });
}

async function start(label, command, argv, env, port) {
  const child = spawn(command, argv, { env, stdio: ['ignore', 'ignore', 'pipe'] });
  if (process.env.BENCH_DEBUG) child.stderr.pipe(process.stderr);
  let err = '';
  child.stderr.on('data', (d) => { err = (err + d).slice(-4000); });
  const t0 = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`${label} exited: ${err}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/v2/`);
      await r.arrayBuffer();
      if (r.status === 200) break;
    } catch { /* not up yet */ }
    if (Date.now() - t0 > 30 * 60_000) throw new Error(`${label} did not start`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return { url: `http://127.0.0.1:${port}`, startMs: Date.now() - t0, stop: () => new Promise((r) => { child.once('exit', r); child.kill('SIGTERM'); }) };
}

/** ms until Berth records its listing index as built (polling its SQLite file, read-only). */
async function untilBuilt(file) {
  // The same module the server loads on this runtime (better-sqlite3 13 on Node 22+).
  const { sqliteModule } = await import('../../dist/src/meta/database.js');
  const Database = await sqliteModule();
  const t0 = Date.now();
  for (;;) {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      if (db.prepare("select value from berth_meta where key = 'listing.built'").get()) return Date.now() - t0;
    } finally {
      db.close();
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

/** ms of each of `runs` GETs (sequential); stops early past the cap. */
async function time(url, runs) {
  const out = [];
  for (let i = 0; i < runs; i++) {
    const t0 = process.hrtime.bigint();
    const res = await fetch(url, { signal: AbortSignal.timeout(CAP_S * 1000) }).catch((e) => e);
    if (res instanceof Error) return { out, capped: true };
    const body = await res.json();
    if (res.status !== 200 || body.repositories.length === 0) throw new Error(`${url}: ${res.status} ${JSON.stringify(body).slice(0, 200)}`);
    out.push(Number(process.hrtime.bigint() - t0) / 1e6);
  }
  return { out, capped: false };
}

const median = (xs) => { const s = [...xs].sort((a, b) => a - b); return s[Math.floor(s.length / 2)]; };
const fmt = ({ out, capped }) => (capped && out.length === 0 ? `> ${CAP_S} s` : `${median(out).toFixed(1)} ms (median of ${out.length}; min ${Math.min(...out).toFixed(1)}, max ${Math.max(...out).toFixed(1)})`);

async function runBackend(backend, work) {
  const storage = {};
  let stopGw = () => {};
  if (backend === 'fs') {
    const root = join(work, 'fs');
    log(`seeding ${REPOS} repositories on the filesystem`);
    await seedFs(root);
    storage.filesystem = { rootdirectory: root };
  } else {
    const dir = join(work, 'radosgw');
    const port = await freePort();
    log('starting radosgw');
    const r = spawnSync('bash', [resolve(ROOT, '../shared/s3/start-radosgw.sh'), dir, String(port)], {
      env: { ...process.env, CEPH_MON_PORT: String(await freePort()), CEPH_OBJECTSTORE: 'memstore', SKIP_APT: '1' }, encoding: 'utf8',
    });
    if (r.status !== 0) throw new Error(`start-radosgw.sh: ${r.stderr.slice(-2000)}`);
    stopGw = () => spawnSync('bash', [resolve(ROOT, '../shared/s3/start-radosgw.sh'), '--stop', dir], { stdio: 'ignore' });
    const env = Object.fromEntries((await readFile(join(dir, 's3.env'), 'utf8')).split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    const { S3Client } = await import('@aws-sdk/client-s3');
    const s3 = new S3Client({ endpoint: env.S3_ENDPOINT, region: 'us-east-1', forcePathStyle: true, credentials: { accessKeyId: env.AWS_ACCESS_KEY_ID, secretAccessKey: env.AWS_SECRET_ACCESS_KEY } });
    log(`seeding ${REPOS} repositories on radosgw`);
    await seedS3(s3, 'catalog');
    storage.s3 = { accesskey: env.AWS_ACCESS_KEY_ID, secretkey: env.AWS_SECRET_ACCESS_KEY, region: 'us-east-1', regionendpoint: env.S3_ENDPOINT, bucket: 'catalog', secure: false, forcepathstyle: true, v4auth: true };
  }
  const rows = [];
  try {
    const env = { ...process.env };
    delete env.AWS_CA_BUNDLE;
    const common = { version: 0.1, log: { level: process.env.BENCH_DEBUG ? 'info' : 'error', accesslog: { disabled: true } }, storage: { ...storage, maintenance: { uploadpurging: { enabled: false } } } };
    const { stringify } = await import('yaml');
    const bPort = await freePort();
    await writeFile(join(work, `berth-${backend}.yml`), stringify({ ...common, http: { addr: `127.0.0.1:${bPort}` }, meta: { sqlite: { path: join(work, `meta-${backend}.sqlite`) } } }));
    log('starting Berth (first start: builds the listing index from storage)');
    const berth = await start('berth', process.execPath, [join(ROOT, 'bin/berth.js'), 'serve', join(work, `berth-${backend}.yml`)], env, bPort);
    // The first start builds the index in the background (listings walk storage meanwhile): wait for it.
    try {
      const buildMs = berth.startMs + await untilBuilt(join(work, `meta-${backend}.sqlite`));
      rows.push(['Berth (index)', backend, `${(berth.startMs / 1000).toFixed(1)} s; index built from storage in ${(buildMs / 1000).toFixed(1)} s`,
        fmt(await time(`${berth.url}/v2/_catalog?n=100`, RUNS)), fmt(await time(`${berth.url}/v2/_catalog?n=100&last=${encodeURIComponent(middle)}`, RUNS))]);
    } finally {
      await berth.stop();
    }
    const dPort = await freePort();
    await writeFile(join(work, `dist-${backend}.yml`), stringify({ ...common, http: { addr: `127.0.0.1:${dPort}` } }));
    log('starting docker-registry');
    const dist = await start('docker-registry', 'docker-registry', ['serve', join(work, `dist-${backend}.yml`)], env, dPort);
    const dRuns = Math.min(RUNS, 3);
    try {
      rows.push(['Distribution 2.8', backend, `${(dist.startMs / 1000).toFixed(1)} s`,
        fmt(await time(`${dist.url}/v2/_catalog?n=100`, dRuns)), fmt(await time(`${dist.url}/v2/_catalog?n=100&last=${encodeURIComponent(middle)}`, dRuns))]);
    } finally {
      await dist.stop();
    }
  } finally {
    stopGw();
  }
  return rows;
}

const work = await mkdtemp(join(tmpdir(), 'berth-catalog-bench-'));
try {
  const rows = [];
  for (const b of BACKENDS) rows.push(...await runBackend(b, work));
  console.log(`\n${REPOS} repositories; GET /v2/_catalog, sequential, one client\n`);
  console.log('| server | storage | start | ?n=100 | ?n=100&last=(middle) |\n| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.join(' | ')} |`);
} finally {
  await rm(work, { recursive: true, force: true });
}
