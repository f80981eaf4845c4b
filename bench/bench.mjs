// Berth vs CNCF Distribution (Debian's docker-registry), side by side. Started by bench/run.sh,
// which pins this driver (and the load generators it spawns) to BENCH_CLIENT_CPU and builds Berth.
// Both servers run at once, pinned to BENCH_SERVER_CPU, each with fresh storage; every workload
// alternates between them run by run (D B, B D, D B) so drift on the machine hits both alike.
import http from 'node:http';
import net from 'node:net';
import fs from 'node:fs';
import path from 'node:path';
import { spawn, execFileSync } from 'node:child_process';
import { createCipheriv, createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.dirname(HERE);
// BENCH_BERTH_ROOT: run Berth from another checkout/build (e.g. to A/B a patch); default this one.
const BERTH_ROOT = process.env.BENCH_BERTH_ROOT ?? ROOT;
const WORK = process.env.BENCH_WORK ?? fs.mkdtempSync('/tmp/berth-bench.');
const OUT = process.env.BENCH_OUT ?? path.join(HERE, 'out');
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '1';
const CLIENT_CPU = process.env.BENCH_CLIENT_CPU ?? '0';
const QUICK = process.env.BENCH_QUICK === '1';
const PROFILE = process.env.BENCH_PROFILE === '1';
// BENCH_ONLY=pull-1g,manifest: only workloads whose id contains one of these words (ids in the table).
const ONLY = process.env.BENCH_ONLY ? process.env.BENCH_ONLY.split(',').map((x) => x.trim()).filter(Boolean) : undefined;
const want = (id) => !ONLY || ONLY.some((w) => id.includes(w));
/** Whether any selected workload belongs to a family of ids (`pull-1g` for pull-1g-1 and pull-1g-8). */
const wantFamily = (prefix) => !ONLY || ONLY.some((w) => w.includes(prefix) || prefix.includes(w));
const MiB = 1024 * 1024;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// ---- parameters (all bounded) ----------------------------------------------------------------
const P = {
  runs: Number(process.env.BENCH_RUNS ?? (QUICK ? 1 : 3)), // measured runs per workload and server (median reported)
  wrkSeconds: QUICK ? 2 : 4, // length of one measured request-rate run
  wrkWarmSeconds: QUICK ? 1 : 2,
  clients: [1, 8], // concurrent clients for pushes and pulls
  requestConns: [1, 32], // concurrent connections for manifest GET/HEAD
  listConns: 32, // tags list and catalog
  tags: 50, // tags in bench/app (tags list)
  repos: 20, // repositories (catalog)
  smallSize: MiB,
  smallPushes: { 1: QUICK ? 16 : 64, 8: QUICK ? 32 : 128 }, // 1 MiB blobs per push run
  largeSize: (QUICK ? 16 : 100) * MiB,
  largePushes: { 1: 2, 8: 8 }, // "100 MB" blobs per push run (8 clients: one each)
  mediumSize: (QUICK ? 4 : 10) * MiB, // the "10 MB" monolithic push
  mediumClients: 4,
  mediumPushes: QUICK ? 8 : 24, // 10 MiB blobs per push run (4 clients)
  largeChunk: (QUICK ? 4 : 10) * MiB, // PATCH size of the chunked push
  hugeSize: (QUICK ? 128 : 1024) * MiB, // the "1 GB" pull
  pulls: { // pulls per client and run
    large: { 1: QUICK ? 2 : 4, 8: QUICK ? 1 : 2 },
    huge: { 1: QUICK ? 1 : 2, 8: 1 },
  },
};
// Headline targets (Berth / Distribution) where issue 22 sets one; every other headline: >= 1.00.
const TARGETS = { 'pull-100m-1': 1.3, 'manifest-head-32': 2.5, 'push-10m-mono-4': 1.6 };
const RSS_TARGET_MIB = 150; // Berth's peak RSS during pull-1g-8
const STARTUP_TARGET_MS = 1000; // Berth: start to the first answer on /v2/
const IDLE_RSS_TARGET_MIB = 50;
const REPO = 'bench/app';
const TAG = 'v1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
const OCTET = { 'Content-Type': 'application/octet-stream' };

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const sizeName = (bytes) => (bytes >= 1024 * MiB ? `${bytes / 1024 / MiB} GiB` : `${bytes / MiB} MiB`);

// ---- processes -------------------------------------------------------------------------------
const children = [];
function recordPid(pid) {
  fs.appendFileSync(path.join(WORK, 'pids'), `${pid}\n`);
}
// Every child is spawned detached (its own process group), so a load generator's wrapper and the
// tools under it go together; only children still running are signalled.
function killAll() {
  for (const c of children) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    try {
      process.kill(-c.pid, 'SIGTERM');
    } catch {
      c.kill('SIGTERM');
    }
  }
}
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

async function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function procCpuSeconds(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK; // utime + stime, all threads
}
function procStatusKb(pid, key) {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : NaN;
}
let hwmResettable = true;
function resetPeakRss(pid) {
  try {
    fs.writeFileSync(`/proc/${pid}/clear_refs`, '5'); // "5": reset the peak RSS (VmHWM), Linux >= 4.0
  } catch {
    hwmResettable = false;
  }
}

async function startServer(kind) {
  const port = await freePort();
  const dir = path.join(WORK, kind);
  const storage = path.join(dir, 'storage');
  fs.mkdirSync(storage, { recursive: true });
  let child;
  const logFile = fs.openSync(path.join(dir, 'server.log'), 'w');
  if (kind === 'distribution') {
    // Debian's stock config, made quiet: error level, no access log, inmemory descriptor cache
    // (as in /etc/docker/registry/config.yml and the registry:2 image), no auth, no health check.
    const config = path.join(dir, 'config.yml');
    fs.writeFileSync(config, [
      'version: 0.1',
      'log:',
      '  level: error',
      '  formatter: text',
      '  accesslog: {disabled: true}',
      'storage:',
      `  filesystem: {rootdirectory: ${storage}}`,
      '  cache: {blobdescriptor: inmemory}',
      '  delete: {enabled: true}',
      '  maintenance:',
      '    uploadpurging: {enabled: false}',
      'http:',
      `  addr: 127.0.0.1:${port}`,
      '  secret: bench-not-a-secret',
      '',
    ].join('\n'));
    child = spawn('taskset', ['-c', SERVER_CPU, 'docker-registry', 'serve', config], {
      stdio: ['ignore', logFile, logFile], detached: true,
    });
  } else {
    // BENCH_BERTH_NODE_FLAGS: extra node flags for Berth (e.g. --trace-gc); its log is copied to bench/out/.
    const args = (process.env.BENCH_BERTH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
    if (PROFILE) {
      fs.mkdirSync(path.join(OUT, 'prof'), { recursive: true });
      args.push('--cpu-prof', `--cpu-prof-dir=${path.join(OUT, 'prof')}`);
    }
    child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...args, path.join(BERTH_ROOT, 'bin/berth.js'), 'serve'], {
      stdio: ['ignore', logFile, logFile], detached: true,
      env: {
        ...process.env,
        REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
        REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: storage,
        REGISTRY_STORAGE_DELETE_ENABLED: 'true',
        REGISTRY_STORAGE_MAINTENANCE_UPLOADPURGING_ENABLED: 'false',
        REGISTRY_LOG_LEVEL: 'error',
        REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
      },
    });
  }
  const spawned = performance.now();
  children.push(child);
  recordPid(child.pid); // taskset execs the server: this pid is the server's own
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  // Polled every 10 ms: the time to the first 200 is "start to first answer" (within ~10 ms).
  for (let i = 0; i < 1500; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await request(agent, 'GET', `${base}/v2/`);
      if (r.status === 200) {
        const startMs = performance.now() - spawned;
        return { kind, label: kind === 'berth' ? 'Berth' : 'Distribution', base, pid: child.pid, child, agent, storage, startMs, blobUrl: (b) => `${base}/v2/${REPO}/blobs/${b.digest}` };
      }
    } catch {
      /* not up yet */
    }
    await sleep(10);
  }
  throw new Error(`${kind} did not come up; see ${path.join(dir, 'server.log')}:\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000)}`);
}

/**
 * The loopback limit for large pulls: Debian's nginx (sendfile, one worker, pinned like the
 * registries) serving the very blob files Berth stored, fetched by the same curl command.
 */
async function startStaticServer(storage) {
  const port = await freePort();
  const dir = path.join(WORK, 'static');
  fs.mkdirSync(dir, { recursive: true });
  const config = path.join(dir, 'nginx.conf');
  fs.writeFileSync(config, [
    'daemon off;', 'master_process off;', 'worker_processes 1;', ...(process.getuid?.() === 0 ? ['user root;'] : []),
    `pid ${dir}/nginx.pid;`, `error_log ${dir}/error.log error;`,
    'events { worker_connections 256; }',
    'http {',
    '  access_log off; sendfile on; tcp_nopush on; keepalive_requests 100000;',
    `  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fcgi;`,
    `  uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;`,
    `  server { listen 127.0.0.1:${port}; root ${storage}; default_type application/octet-stream; }`,
    '}', '',
  ].join('\n'));
  const child = spawn('taskset', ['-c', SERVER_CPU, 'nginx', '-c', config, '-p', dir], { stdio: ['ignore', 'ignore', 'ignore'], detached: true });
  children.push(child);
  recordPid(child.pid);
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true });
  const blobUrl = (b) => { const hex = b.digest.slice('sha256:'.length); return `${base}/docker/registry/v2/blobs/sha256/${hex.slice(0, 2)}/${hex}/data`; };
  for (let i = 0; i < 500; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await request(agent, 'GET', `${base}/`);
      if (r.status) return { kind: 'static', label: 'Static (nginx)', base, pid: child.pid, child, agent, blobUrl };
    } catch {
      /* not up yet */
    }
    await sleep(10);
  }
  throw new Error(`nginx did not come up; see ${dir}/error.log`);
}

async function stopServer(s) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
}

// ---- HTTP client (node:http, keep-alive agents) ----------------------------------------------
/** `body`: a Buffer or a list of Buffers sent one after the other (large blobs share their bytes). */
function request(agent, method, url, { headers = {}, body, keep = false } = {}) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request(
      { agent, method, hostname: u.hostname, port: u.port, path: u.pathname + u.search, headers },
      (res) => {
        let bytes = 0;
        const chunks = [];
        res.on('data', (c) => {
          bytes += c.length;
          if (keep) chunks.push(c);
        });
        res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, bytes, body: keep ? Buffer.concat(chunks) : undefined }));
        res.on('error', reject);
      },
    );
    req.setTimeout(300_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    const parts = body === undefined ? [] : Array.isArray(body) ? body : [body];
    if (body !== undefined || method === 'PUT' || method === 'POST' || method === 'PATCH') {
      req.setHeader('Content-Length', parts.reduce((n, b) => n + b.length, 0));
    }
    (async () => {
      for (const part of parts) {
        if (!req.write(part)) await new Promise((r) => req.once('drain', r));
      }
      req.end();
    })().catch(reject);
  });
}

function expect(res, status, what) {
  if (res.status !== status) {
    const detail = res.body ? res.body.toString('utf8').slice(0, 300) : '';
    throw new Error(`${what}: expected ${status}, got ${res.status} ${detail}`);
  }
}

const sha256 = (buf) => `sha256:${createHash('sha256').update(buf).digest('hex')}`;
/** Deterministic pseudo-random bytes (AES-128-CTR keystream of a seed): incompressible, reproducible. */
function bytesFor(seed, n) {
  const key = createHash('sha256').update(String(seed)).digest().subarray(0, 16);
  return createCipheriv('aes-128-ctr', key, Buffer.alloc(16)).update(Buffer.alloc(n));
}

/**
 * A blob as a list of Buffers (several blobs share most of their bytes, so 8 concurrent 100 MiB
 * pushes need no 800 MiB of client memory), with `slice(start, end)` over the concatenation.
 */
class Blob {
  constructor(parts, digest) {
    this.parts = parts;
    this.digest = digest;
    this.size = parts.reduce((n, b) => n + b.length, 0);
  }
  slice(start, end) {
    const out = [];
    let off = 0;
    for (const p of this.parts) {
      const a = Math.max(start, off);
      const b = Math.min(end, off + p.length);
      if (a < b) out.push(p.subarray(a - off, b - off));
      off += p.length;
    }
    return out;
  }
}
/** Blobs of `size` bytes: one shared body plus a distinct 64-byte tail each (hash state reused). */
function blobFamily(seed, size) {
  const body = bytesFor(seed, size - 64);
  const state = createHash('sha256').update(body);
  return (name) => {
    const tail = Buffer.from(String(name).padEnd(64, '.').slice(0, 64));
    return new Blob([body, tail], `sha256:${state.copy().update(tail).digest('hex')}`);
  };
}

async function pushMonolithic(s, repo, blob) {
  const start = await request(s.agent, 'POST', `${s.base}/v2/${repo}/blobs/uploads/`, { keep: true });
  expect(start, 202, 'POST upload');
  const loc = new URL(start.headers.location, s.base);
  loc.searchParams.set('digest', blob.digest);
  const put = await request(s.agent, 'PUT', loc.href, { headers: OCTET, body: blob.parts, keep: true });
  expect(put, 201, 'PUT upload');
}

async function pushChunked(s, repo, blob, chunk) {
  const start = await request(s.agent, 'POST', `${s.base}/v2/${repo}/blobs/uploads/`, { keep: true });
  expect(start, 202, 'POST upload');
  let loc = new URL(start.headers.location, s.base);
  for (let off = 0; off < blob.size; off += chunk) {
    const end = Math.min(off + chunk, blob.size);
    const res = await request(s.agent, 'PATCH', loc.href, {
      headers: { ...OCTET, 'Content-Range': `${off}-${end - 1}` }, body: blob.slice(off, end), keep: true,
    });
    expect(res, 202, 'PATCH upload');
    loc = new URL(res.headers.location, s.base);
  }
  loc.searchParams.set('digest', blob.digest);
  const put = await request(s.agent, 'PUT', loc.href, { keep: true });
  expect(put, 201, 'PUT upload');
}

async function putManifest(s, repo, ref, content) {
  const res = await request(s.agent, 'PUT', `${s.base}/v2/${repo}/manifests/${ref}`, {
    headers: { 'Content-Type': OCI_MANIFEST }, body: content, keep: true,
  });
  expect(res, 201, 'PUT manifest');
}

/** Removes pushed blob data from a server's storage (both use Distribution's layout), bounding disk use. */
function dropBlobData(s, blobs) {
  for (const b of blobs) {
    const hex = b.digest.slice('sha256:'.length);
    fs.rmSync(path.join(s.storage, 'docker/registry/v2/blobs/sha256', hex.slice(0, 2), hex), { recursive: true, force: true });
  }
}

async function inParallel(items, concurrency, fn) {
  let next = 0;
  const workers = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) {
      const i = next++;
      await fn(items[i], i);
    }
  });
  await Promise.all(workers);
}

// ---- seeding: identical content in both registries, through the HTTP API ----------------------
async function seed(servers) {
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] },
  }));
  const layer = (data) => new Blob([data], sha256(data));
  const small = layer(bytesFor('layer-1MiB', P.smallSize));
  // Layers only the pull workloads need are small stand-ins when those are not selected.
  const large = blobFamily('layer-large', wantFamily('pull-100m') ? P.largeSize : MiB)('pull');
  // The "1 GB" blob: a 64 MiB block repeated, plus a tail (content does not matter to either server).
  const block = bytesFor('layer-huge', wantFamily('pull-1g') ? 64 * MiB : MiB);
  const reps = (wantFamily('pull-1g') ? P.hugeSize : 2 * MiB) / block.length - 1;
  const hugeParts = [...Array.from({ length: reps }, () => block), block.subarray(0, block.length - 64), Buffer.alloc(64, 'h')];
  const hugeHash = createHash('sha256');
  for (const p of hugeParts) hugeHash.update(p);
  const huge = new Blob(hugeParts, `sha256:${hugeHash.digest('hex')}`);
  const layers = [small, large, huge];
  const configBlob = layer(config);
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: config.length },
    layers: layers.map((b) => ({ mediaType: 'application/vnd.oci.image.layer.v1.tar', digest: b.digest, size: b.size })),
    annotations: { 'org.opencontainers.image.title': 'berth-bench' },
  }));
  const smallManifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: configBlob.digest, size: config.length },
    layers: [],
  }));
  for (const s of servers) {
    for (const b of [configBlob, ...layers]) await pushMonolithic(s, REPO, b);
    await putManifest(s, REPO, TAG, manifest);
    for (let i = 0; i < P.tags; i++) await putManifest(s, REPO, `t${String(i).padStart(3, '0')}`, smallManifest);
    for (let i = 0; i < P.repos; i++) {
      const repo = `bench/repo-${String(i).padStart(2, '0')}`;
      await pushMonolithic(s, repo, configBlob);
      await putManifest(s, repo, 'latest', smallManifest);
    }
    // Both must serve the very same bytes.
    const m = await request(s.agent, 'GET', `${s.base}/v2/${REPO}/manifests/${TAG}`, { headers: { Accept: OCI_MANIFEST }, keep: true });
    expect(m, 200, 'GET manifest');
    if (!m.body.equals(manifest) || m.headers['docker-content-digest'] !== sha256(manifest)) {
      throw new Error(`${s.label} serves another manifest than it was given`);
    }
    for (const b of [small, large]) { // (the 1 GiB one: curl checks its size on every pull)
      const got = await pullVerified(s, b);
      if (got !== b.digest) throw new Error(`${s.label} serves ${got} for ${b.digest}`);
    }
  }
  return { manifest, small, large, huge };
}

/** One GET of a blob, hashed (seeding check only). */
function pullVerified(s, blob) {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent: s.agent, host: '127.0.0.1', port: new URL(s.base).port, path: `/v2/${REPO}/blobs/${blob.digest}` }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`pull: ${res.statusCode}`));
      const h = createHash('sha256');
      res.on('data', (c) => h.update(c));
      res.on('end', () => resolve(`sha256:${h.digest('hex')}`));
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

// ---- measurement helpers ---------------------------------------------------------------------
function serverSnapshot(s) {
  return { cpu: procCpuSeconds(s.pid), t: performance.now() };
}
function serverDelta(s, before) {
  return { serverCpu: procCpuSeconds(s.pid) - before.cpu, wall: (performance.now() - before.t) / 1000 };
}

/**
 * Runs `cmd` on the client CPU under bash, whose `times` builtin then prints the CPU time of the
 * children it waited for (with theirs) as the last line. Resolves with the exit code, stdout,
 * stderr and those CPU seconds.
 */
function onClientCpu(cmd, env = process.env) {
  const args = ['-c', CLIENT_CPU, 'bash', '-c', '"$@"; rc=$?; times; exit $rc', 'loadgen', ...cmd];
  return new Promise((resolve) => {
    const child = spawn('taskset', args, { env, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
    children.push(child);
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => { out += d; });
    child.stderr.on('data', (d) => { err += d; });
    child.on('exit', (code) => {
      // `times` prints the shell's own times, then its children's: "0m1.234s 0m0.567s".
      const lines = out.trim().split('\n');
      const secs = (t) => { const m = /(\d+)m([\d.]+)s/.exec(t ?? ''); return m ? Number(m[1]) * 60 + Number(m[2]) : NaN; };
      const [u, sy] = (lines[lines.length - 1] ?? '').trim().split(/\s+/);
      resolve({ code, out, err, cpu: secs(u) + secs(sy) });
    });
  });
}

/** One request-rate run (on the client CPU): wrk for GET, head-load.mjs for HEAD. */
async function rateRun({ url, method = 'GET', headers = {}, conns, seconds }) {
  const cmd = [];
  if (method === 'HEAD') {
    // wrk 4.1 hangs on HEAD (it waits for a body); our raw-socket HEAD generator replaces it.
    cmd.push(process.execPath, path.join(HERE, 'head-load.mjs'), url, String(conns), String(seconds));
    for (const [k, v] of Object.entries(headers)) cmd.push(`${k}: ${v}`);
  } else {
    cmd.push('wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '10s', '-s', path.join(HERE, 'report.lua'));
    for (const [k, v] of Object.entries(headers)) cmd.push('-H', `${k}: ${v}`);
    cmd.push(url);
  }
  const { code, out, err, cpu } = await onClientCpu(cmd, { ...process.env, BENCH_METHOD: method });
  const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (code !== 0 || !line) throw new Error(`load generator failed (${code}): ${out}\n${err}`);
  const r = JSON.parse(line.slice('BENCHJSON '.length));
  r.clientCpu = cpu;
  r.errors = r.connect + r.read + r.write + r.status + r.timeout;
  return r;
}

/**
 * `clients` curl processes at once, each GETting the blob `count` times on one keep-alive
 * connection (curl: C, one reused buffer; a Node client was the bottleneck above ~500 MiB/s here).
 */
async function curlPulls(s, blob, clients, count) {
  const url = s.blobUrl(blob);
  const one = ['curl', '-s', '-S', '-w', 'BENCHCURL %{http_code} %{size_download}\\n'];
  for (let i = 0; i < count; i++) one.push('-o', '/dev/null', url);
  const script = `for i in $(seq ${clients}); do ${one.map((a) => `'${a}'`).join(' ')} & done; wait`;
  const { code, out, err, cpu } = await onClientCpu(['bash', '-c', script]);
  const got = out.split('\n').filter((l) => l.startsWith('BENCHCURL '));
  if (code !== 0 || got.length !== clients * count || got.some((l) => l !== `BENCHCURL 200 ${blob.size}`)) {
    throw new Error(`curl pulls from ${s.label}: ${got.slice(0, 3).join(' | ')} (${got.length} of ${clients * count}) ${err}`);
  }
  return { clientCpu: cpu };
}

const results = []; // { id, workload, metric, unit, better: 'higher'|'lower'|'info', values: {Distribution, Berth}, target? }
function add(w, metric, unit, better, values, extra = {}) {
  results.push({ id: w.id, workload: w.name, metric, unit, better, values, ...extra });
}

/** Runs `measure(server, runIndex)` `runs` times per server, alternating which goes first. */
async function alternate(servers, runs, measure) {
  const per = Object.fromEntries(servers.map((s) => [s.label, []]));
  for (let r = 0; r < runs; r++) {
    const order = r % 2 === 0 ? servers : [...servers].reverse();
    for (const s of order) per[s.label].push(await measure(s, r));
  }
  return per;
}

function medianOf(per, key) {
  return Object.fromEntries(Object.entries(per).map(([k, v]) => [k, median(v.map((x) => x[key]))]));
}
function peakRss(servers) {
  return Object.fromEntries(servers.map((s) => [s.label, procStatusKb(s.pid, 'VmHWM') / 1024]));
}

/** A fixed-duration request-rate workload (wrk or head-load). */
async function rateWorkload(servers, w, { path: p, method, headers, conns, mib }) {
  if (!want(w.id)) return;
  log(`${w.id}: warm-up`);
  for (const s of servers) resetPeakRss(s.pid);
  for (const s of servers) {
    const r = await rateRun({ url: s.base + p, method, headers, conns, seconds: P.wrkWarmSeconds });
    if (r.errors || r.requests === 0) throw new Error(`${w.id} warm-up against ${s.label}: ${JSON.stringify(r)}`);
  }
  const per = await alternate(servers, P.runs, async (s) => {
    const before = serverSnapshot(s);
    const r = await rateRun({ url: s.base + p, method, headers, conns, seconds: P.wrkSeconds });
    const d = serverDelta(s, before);
    if (r.errors) throw new Error(`${w.id} against ${s.label}: errors ${JSON.stringify(r)}`);
    const secs = r.duration_us / 1e6;
    const run = {
      rps: r.requests / secs,
      mibps: r.bytes / MiB / secs,
      p50: r.p50_us / 1000,
      p99: r.p99_us / 1000,
      serverCpuPct: (100 * d.serverCpu) / d.wall,
      cpuPerReq: (1e6 * d.serverCpu) / r.requests,
      clientCpuPct: (100 * r.clientCpu) / secs,
    };
    log(`${w.id} ${s.label}: ${run.rps.toFixed(0)} req/s${mib ? ` ${run.mibps.toFixed(0)} MiB/s` : ''} p50 ${run.p50.toFixed(2)} ms p99 ${run.p99.toFixed(2)} ms, server CPU ${run.serverCpuPct.toFixed(0)}%, load-gen CPU ${run.clientCpuPct.toFixed(0)}%`);
    return run;
  });
  if (mib) add(w, 'throughput', 'MiB/s', 'higher', medianOf(per, 'mibps'), { headline: true, per: per });
  add(w, 'requests/s', 'req/s', 'higher', medianOf(per, 'rps'), mib ? {} : { headline: true, per });
  add(w, 'latency p50', 'ms', 'lower', medianOf(per, 'p50'));
  add(w, 'latency p99', 'ms', 'lower', medianOf(per, 'p99'));
  add(w, 'server CPU per request', 'µs', 'lower', medianOf(per, 'cpuPerReq'), { cpuPer: true });
  add(w, 'server CPU busy', '% of 1 core', 'info', medianOf(per, 'serverCpuPct'), { busy: true });
  add(w, 'peak RSS', 'MiB', 'lower', peakRss(servers), { rss: true });
  add(w, `load generator CPU (${method === 'HEAD' ? 'head-load.mjs' : 'wrk'})`, '% of 1 core', 'info', medianOf(per, 'clientCpuPct'), { gen: true });
}

/** A bounded batch of transfers; `run` may report a child load generator's CPU, else this process's counts. */
async function transferWorkload(servers, w, { warm, prepare, run, after, bytes, client }) {
  if (!want(w.id)) return;
  log(`${w.id}: warm-up`);
  for (const s of servers) resetPeakRss(s.pid);
  if (warm) for (const s of servers) await warm(s);
  const per = await alternate(servers, P.runs, async (s, r) => {
    const prepared = prepare ? prepare(r) : undefined; // outside the timing
    const before = serverSnapshot(s);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ran = await run(s, prepared);
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const d = serverDelta(s, before);
    if (after) after(s, prepared);
    const m = {
      mibps: bytes / MiB / secs,
      secs,
      serverCpuPct: (100 * d.serverCpu) / d.wall,
      cpuPerMiB: (1000 * d.serverCpu) / (bytes / MiB),
      clientCpuPct: (100 * (ran?.clientCpu ?? (cpu.user + cpu.system) / 1e6)) / secs,
    };
    log(`${w.id} ${s.label}: ${m.mibps.toFixed(0)} MiB/s (${secs.toFixed(2)} s), server CPU ${m.serverCpuPct.toFixed(0)}%, load-gen CPU ${m.clientCpuPct.toFixed(0)}%`);
    return m;
  });
  add(w, 'throughput', 'MiB/s', 'higher', medianOf(per, 'mibps'), { headline: true, per });
  add(w, 'server CPU per MiB', 'ms', 'lower', medianOf(per, 'cpuPerMiB'), { cpuPer: true });
  add(w, 'server CPU busy', '% of 1 core', 'info', medianOf(per, 'serverCpuPct'), { busy: true });
  add(w, 'peak RSS', 'MiB', 'lower', peakRss(servers), { rss: true });
  add(w, `load generator CPU (${client})`, '% of 1 core', 'info', medianOf(per, 'clientCpuPct'), { gen: true });
}

// ---- report ----------------------------------------------------------------------------------
function versions() {
  const v = { node: process.version, kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
  try { v.distribution = execFileSync('docker-registry', ['--version']).toString().trim().split(/\s+/).pop(); } catch { /* */ }
  try { v.berth = JSON.parse(fs.readFileSync(path.join(BERTH_ROOT, 'package.json'), 'utf8')).version; } catch { /* */ }
  try { v.berthCommit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim(); } catch { /* */ }
  try { v.berthDirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', 'src']).toString().trim() !== ''; } catch { /* */ }
  try { v.wrk = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'wrk']).toString().trim(); } catch { /* */ }
  try { v.curl = execFileSync('curl', ['--version']).toString().split(' ')[1]; } catch { /* */ }
  try { v.fastify = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/fastify/package.json'), 'utf8')).version; } catch { /* */ }
  try { v.cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))[1]; } catch { /* */ }
  try { v.loadavg = fs.readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { /* */ }
  return v;
}

function fmt(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  if (Math.abs(x) >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

/** The short table: one line per workload, its headline ratio against the target. */
function summary() {
  const rows = [
    '| workload | metric | Distribution | Berth | Berth / Dist | target | met | server CPU per unit, B / D | server busy D / B (%) | load-gen CPU D / B (%) |',
    '| --- | --- | ---: | ---: | ---: | --- | --- | ---: | ---: | ---: |',
  ];
  const of = (id, key) => results.find((r) => r.id === id && r[key]);
  let met = 0;
  let missed = 0;
  const generatorWarnings = [];
  for (const h of results.filter((r) => r.headline)) {
    const d = h.values.Distribution;
    const b = h.values.Berth;
    const ratio = b / d;
    const target = TARGETS[h.id] ?? 1.0;
    const ok = ratio >= target;
    ok ? met++ : missed++;
    const busy = of(h.id, 'busy');
    const gen = of(h.id, 'gen');
    if (gen && Math.max(gen.values.Distribution, gen.values.Berth) > 85) generatorWarnings.push(h.id);
    const cpu = of(h.id, 'cpuPer');
    rows.push(`| ${h.workload} | ${h.metric} (${h.unit}) | ${fmt(d)} | ${fmt(b)} | **${ratio.toFixed(2)}** | >= ${target.toFixed(2)} | ${ok ? 'yes' : 'NO'} | ${cpu ? (cpu.values.Berth / cpu.values.Distribution).toFixed(2) : ''} | ${busy ? `${fmt(busy.values.Distribution)} / ${fmt(busy.values.Berth)}` : ''} | ${gen ? `${fmt(gen.values.Distribution)} / ${fmt(gen.values.Berth)}` : ''} |`);
  }
  const rssRow = results.find((r) => r.id === 'pull-1g-8' && r.rss);
  if (rssRow) {
    const ok = rssRow.values.Berth < RSS_TARGET_MIB;
    ok ? met++ : missed++;
    rows.push(`| ${rssRow.workload} | Berth peak RSS (MiB) | ${fmt(rssRow.values.Distribution)} | ${fmt(rssRow.values.Berth)} | ${(rssRow.values.Berth / rssRow.values.Distribution).toFixed(2)} | Berth < ${RSS_TARGET_MIB} MiB | ${ok ? 'yes' : 'NO'} | | | |`);
  }
  for (const [key, limit, label] of [['idleRss', IDLE_RSS_TARGET_MIB, 'MiB'], ['startup', STARTUP_TARGET_MS, 'ms']]) {
    const row = results.find((r) => r[key]);
    if (!row) continue;
    const ok = row.values.Berth < limit;
    ok ? met++ : missed++;
    rows.push(`| ${row.workload} | ${row.metric} (${row.unit}) | ${fmt(row.values.Distribution)} | ${fmt(row.values.Berth)} | ${(row.values.Berth / row.values.Distribution).toFixed(2)} | Berth < ${limit} ${label} | ${ok ? 'yes' : 'NO'} | | | |`);
  }
  // The loopback limit: nginx (sendfile) serving the same file to the same curl command.
  for (const h of results.filter((r) => r.headline && Number.isFinite(r.values['Static (nginx)']))) {
    const limit = h.values['Static (nginx)'];
    const ok = limit / h.values.Berth <= 2;
    ok ? met++ : missed++;
    rows.push(`| ${h.workload} | static file limit / Berth | ${fmt(limit)} (nginx) | ${fmt(h.values.Berth)} | ${(h.values.Berth / limit).toFixed(2)} of the limit | limit / Berth <= 2 | ${ok ? 'yes' : 'NO'} | | | |`);
  }
  rows.push('', `targets met: ${met}, missed: ${missed}`);
  rows.push(generatorWarnings.length
    ? `WARNING: load generator above 85% of its core in ${generatorWarnings.join(', ')}: those figures may be the generator's limit`
    : 'load generator below 85% of its core in every workload (it was not the limit)');
  return rows.join('\n');
}

function details() {
  const rows = [
    '| workload | metric | Distribution | Berth | Berth / Dist | better is | verdict |',
    '| --- | --- | ---: | ---: | ---: | --- | --- |',
  ];
  for (const r of results) {
    const d = r.values.Distribution;
    const b = r.values.Berth;
    const ratio = b / d;
    let verdict = '';
    if (r.better !== 'info' && Number.isFinite(ratio)) {
      const good = r.better === 'higher' ? ratio : 1 / ratio; // > 1: Berth better
      verdict = good >= 1.05 ? `Berth ${good.toFixed(2)}x better` : good <= 1 / 1.05 ? `Berth ${(1 / good).toFixed(2)}x worse` : 'about even (±5%)';
    }
    rows.push(`| ${r.workload} | ${r.metric} (${r.unit}) | ${fmt(d)} | ${fmt(b)} | ${Number.isFinite(ratio) ? ratio.toFixed(2) : 'n/a'} | ${r.better === 'info' ? '(context)' : r.better} | ${verdict} |`);
  }
  return rows.join('\n');
}

// ---- the run ---------------------------------------------------------------------------------
async function main() {
  const started = new Date();
  const loadBefore = versions().loadavg;
  fs.mkdirSync(OUT, { recursive: true });
  log(`parameters ${JSON.stringify(P)}${QUICK ? ' (QUICK)' : ''}`);
  const servers = [await startServer('distribution'), await startServer('berth')];
  const idleRss = Object.fromEntries(servers.map((s) => [s.label, procStatusKb(s.pid, 'VmRSS') / 1024]));
  log(`servers up: ${servers.map((s) => `${s.label} ${s.base} pid ${s.pid}`).join(', ')}`);

  const seeded = await seed(servers);
  log(`seeded both: ${REPO}:${TAG} + ${P.tags} tags, ${P.repos} more repositories, layers of ${[seeded.small, seeded.large, seeded.huge].map((b) => sizeName(b.size)).join(', ')}`);
  add({ id: 'idle', name: 'idle' }, 'RSS after start', 'MiB', 'lower', idleRss, { idleRss: true });
  add({ id: 'start', name: 'start' }, 'start to first answer on /v2/', 'ms', 'lower', Object.fromEntries(servers.map((s) => [s.label, s.startMs])), { startup: true });

  // Manifest GET and HEAD by tag (617-byte OCI manifest, OCI Accept), at 1 and 32 connections.
  for (const method of ['GET', 'HEAD']) {
    for (const conns of P.requestConns) {
      await rateWorkload(servers, { id: `manifest-${method.toLowerCase()}-${conns}`, name: `manifest ${method} by tag, ${conns} conn` }, {
        path: `/v2/${REPO}/manifests/${TAG}`, method, headers: { Accept: OCI_MANIFEST }, conns,
      });
    }
  }
  await rateWorkload(servers, { id: 'tags-list', name: `tags list (${P.tags + 1} tags), ${P.listConns} conn` }, {
    path: `/v2/${REPO}/tags/list`, conns: P.listConns,
  });
  await rateWorkload(servers, { id: 'catalog', name: `catalog (${P.repos + 1} repositories), ${P.listConns} conn` }, {
    path: '/v2/_catalog', conns: P.listConns,
  });

  // Pushes: content that registry has never seen (fresh per run, the same for both servers);
  // digests computed before the clock starts; data removed from disk after each run.
  const small = (tag, n) => Array.from({ length: n }, (_, i) => { const d = bytesFor(`${tag}-${i}`, P.smallSize); return new Blob([d], sha256(d)); });
  for (const c of P.clients) {
    const n = P.smallPushes[c];
    await transferWorkload(servers, { id: `push-1m-mono-${c}`, name: `push ${sizeName(P.smallSize)} monolithic, ${c} client${c > 1 ? 's' : ''} (${n} blobs)` }, {
      bytes: n * P.smallSize, client: 'node',
      warm: async (s) => { for (const b of small(`warm-${c}`, 4)) await pushMonolithic(s, REPO, b); },
      prepare: (r) => small(`mono-${c}-${r}`, n),
      run: (s, blobs) => inParallel(blobs, c, (b) => pushMonolithic(s, REPO, b)),
      after: dropBlobData,
    });
  }
  {
    const c = P.mediumClients;
    const n = P.mediumPushes;
    const family = want(`push-10m-mono-${c}`) ? blobFamily('push-medium', P.mediumSize) : undefined;
    await transferWorkload(servers, { id: `push-10m-mono-${c}`, name: `push ${sizeName(P.mediumSize)} monolithic, ${c} clients (${n} blobs)` }, {
      bytes: n * P.mediumSize, client: 'node',
      warm: async (s) => { const b = [0, 1, 2, 3].map((i) => family(`warm-${i}-${s.kind}`)); await inParallel(b, c, (x) => pushMonolithic(s, REPO, x)); dropBlobData(s, b); },
      prepare: (r) => Array.from({ length: n }, (_, i) => family(`mono-${c}-${r}-${i}`)),
      run: (s, blobs) => inParallel(blobs, c, (b) => pushMonolithic(s, REPO, b)),
      after: dropBlobData,
    });
  }
  const largeFamily = wantFamily('push-100m') ? blobFamily('push-large', P.largeSize) : undefined;
  for (const [mode, push] of [['mono', (s, b) => pushMonolithic(s, REPO, b)], ['chunked', (s, b) => pushChunked(s, REPO, b, P.largeChunk)]]) {
    for (const c of P.clients) {
      const n = P.largePushes[c];
      const how = mode === 'mono' ? 'monolithic' : `chunked (${sizeName(P.largeChunk)} PATCHes)`;
      await transferWorkload(servers, { id: `push-100m-${mode}-${c}`, name: `push ${sizeName(P.largeSize)} ${how}, ${c} client${c > 1 ? 's' : ''} (${n} blobs)` }, {
        bytes: n * P.largeSize, client: 'node',
        warm: async (s) => { const b = largeFamily(`warm-${mode}-${c}-${s.kind}`); await push(s, b); dropBlobData(s, [b]); },
        prepare: (r) => Array.from({ length: n }, (_, i) => largeFamily(`${mode}-${c}-${r}-${i}`)),
        run: (s, blobs) => inParallel(blobs, c, (b) => push(s, b)),
        after: dropBlobData,
      });
    }
  }

  // Pulls: 1 MiB by wrk (fixed duration), 100 MiB and 1 GiB by curl (fixed counts).
  for (const c of P.clients) {
    await rateWorkload(servers, { id: `pull-1m-${c}`, name: `pull ${sizeName(P.smallSize)}, ${c} client${c > 1 ? 's' : ''}` }, {
      path: `/v2/${REPO}/blobs/${seeded.small.digest}`, conns: c, mib: true,
    });
  }
  // Single-client large pulls also run against nginx serving Berth's blob files (the loopback limit).
  const berth = servers.find((s) => s.kind === 'berth');
  const staticServer = want('pull-100m-1') || want('pull-1g-1') ? await startStaticServer(berth.storage) : undefined;
  for (const [key, blob, id] of [['large', seeded.large, 'pull-100m'], ['huge', seeded.huge, 'pull-1g']]) {
    for (const c of P.clients) {
      const count = P.pulls[key][c];
      await transferWorkload(c === 1 && staticServer ? [...servers, staticServer] : servers, { id: `${id}-${c}`, name: `pull ${sizeName(blob.size)}, ${c} client${c > 1 ? 's' : ''} (${count} each)` }, {
        bytes: c * count * blob.size, client: 'curl',
        warm: (s) => curlPulls(s, blob, 1, 1),
        run: (s) => curlPulls(s, blob, c, count),
      });
    }
  }

  for (const s of servers) s.agent.destroy();
  if (staticServer) { staticServer.agent.destroy(); await stopServer(staticServer); }
  for (const s of servers) await stopServer(s);
  for (const s of servers) fs.copyFileSync(path.join(WORK, s.kind, 'server.log'), path.join(OUT, `${s.kind}.log`));
  const finished = new Date();

  const v = versions();
  const header = [
    `Berth ${v.berth ?? '?'}${v.berthCommit ? ` (${v.berthCommit}${v.berthDirty ? ', src/ modified' : ''}${BERTH_ROOT !== ROOT ? `, run from ${BERTH_ROOT}` : ''})` : ''} on Node ${v.node} (fastify ${v.fastify ?? '?'})`
      + ` vs Distribution ${v.distribution ?? '?'} (Debian docker-registry)`,
    `${started.toISOString()} .. ${finished.toISOString()} (${((finished - started) / 1000).toFixed(0)} s), ${v.cpu ?? '?'}, kernel ${v.kernel}, wrk ${v.wrk ?? '?'}, curl ${v.curl ?? '?'}, load average before/after ${loadBefore} / ${v.loadavg}`,
    `servers pinned to CPU ${SERVER_CPU}, load generators to CPU ${CLIENT_CPU}; ${P.runs} measured run(s) per workload and server, alternating, median shown${QUICK ? ' (QUICK mode: smaller sizes, not for publishing)' : ''}`,
    hwmResettable ? 'peak RSS = VmHWM, reset before each workload' : 'peak RSS = VmHWM since start (could not reset it)',
  ];
  const text = `${header.join('\n')}\n\n## Summary\n\n${summary()}\n\n## Details\n\n${details()}\n`;
  process.stdout.write(`\n${text}`);
  fs.writeFileSync(path.join(OUT, 'results.md'), text);
  fs.writeFileSync(path.join(OUT, 'results.json'), JSON.stringify({ versions: v, parameters: P, started, finished, results }, null, 2));
  log(`written ${path.join(OUT, 'results.md')} and results.json`);
}

main().catch((err) => {
  log(`FAILED: ${err.stack ?? err}`);
  killAll();
  process.exit(1);
});
