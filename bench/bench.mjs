// Berth vs CNCF Distribution (Debian's docker-registry), side by side. Started by bench/run.sh,
// which pins this driver (and the wrk it spawns) to BENCH_CLIENT_CPU and builds Berth first.
// Both servers run at once, pinned to BENCH_SERVER_CPU, each with fresh storage; every
// workload alternates between them run by run so drift on the machine hits both alike.
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
// BENCH_ONLY=1,5 runs only those workloads (1 manifest GET, 2 HEAD, 3 blob GET, 4 push, 5 pull).
const ONLY = process.env.BENCH_ONLY ? new Set(process.env.BENCH_ONLY.split(',').map((x) => x.trim())) : undefined;
const want = (n) => !ONLY || ONLY.has(String(n));
const MiB = 1024 * 1024;
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

// ---- parameters (all bounded) ----------------------------------------------------------------
const P = {
  runs: QUICK ? 1 : 3, // measured runs per workload and server (median reported)
  wrkSeconds: QUICK ? 2 : 5, // length of one measured wrk run
  wrkWarmSeconds: QUICK ? 1 : 2,
  manifestConns: 64,
  headConns: 64,
  blobConns: 16,
  smallBlobs: QUICK ? 20 : 100, // 1 MiB blobs per push run
  smallConcurrency: 4,
  smallChunk: 256 * 1024, // chunked push of a 1 MiB blob: 4 PATCHes
  largeRuns: QUICK ? 1 : 3,
  largeBlobs: QUICK ? 1 : 3, // 100 MiB blobs per run, pushed one after the other
  largeSize: (QUICK ? 32 : 100) * MiB,
  largeChunk: 10 * MiB,
  pullSize: (QUICK ? 64 : 256) * MiB,
  pullRuns: QUICK ? 1 : 3,
  pullsPerRun: QUICK ? 1 : 4, // sequential pulls of the same blob on one keep-alive connection
};
const REPO = 'bench/app';
const TAG = 'v1';
const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';

const log = (...a) => process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const median = (xs) => {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return NaN;
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

// ---- processes -------------------------------------------------------------------------------
const children = [];
function recordPid(pid) {
  fs.appendFileSync(path.join(WORK, 'pids'), `${pid}\n`);
}
// Every child is spawned detached (its own process group), so a load generator's wrapper and the
// tool under it go together; only children still running are signalled.
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
  children.push(child);
  recordPid(child.pid); // taskset execs the server: this pid is the server's own
  const base = `http://127.0.0.1:${port}`;
  const agent = new http.Agent({ keepAlive: true, maxSockets: 32 });
  for (let i = 0; i < 150; i++) {
    if (child.exitCode !== null) break;
    try {
      const r = await request(agent, 'GET', `${base}/v2/`);
      if (r.status === 200) {
        return { kind, label: kind === 'berth' ? 'Berth' : 'Distribution', base, pid: child.pid, child, agent, storage };
      }
    } catch {
      /* not up yet */
    }
    await sleep(100);
  }
  throw new Error(`${kind} did not come up; see ${path.join(dir, 'server.log')}:\n${fs.readFileSync(path.join(dir, 'server.log'), 'utf8').slice(-2000)}`);
}

async function stopServer(s) {
  if (s.child.exitCode !== null) return;
  const exited = new Promise((r) => s.child.once('exit', r));
  s.child.kill('SIGTERM');
  await Promise.race([exited, sleep(5000)]);
  if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
}

// ---- HTTP client (node:http, keep-alive agents; undici is not importable without a dependency) --
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
    req.setTimeout(120_000, () => req.destroy(new Error(`timeout: ${method} ${url}`)));
    req.on('error', reject);
    if (body !== undefined) {
      req.setHeader('Content-Length', body.length);
      req.end(body);
    } else {
      if (method === 'PUT' || method === 'POST' || method === 'PATCH') req.setHeader('Content-Length', 0);
      req.end();
    }
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

async function pushMonolithic(s, repo, data, digest) {
  const start = await request(s.agent, 'POST', `${s.base}/v2/${repo}/blobs/uploads/`, { keep: true });
  expect(start, 202, 'POST upload');
  const loc = new URL(start.headers.location, s.base);
  loc.searchParams.set('digest', digest);
  const put = await request(s.agent, 'PUT', loc.href, { headers: { 'Content-Type': 'application/octet-stream' }, body: data, keep: true });
  expect(put, 201, 'PUT upload');
}

async function pushChunked(s, repo, data, digest, chunk) {
  const start = await request(s.agent, 'POST', `${s.base}/v2/${repo}/blobs/uploads/`, { keep: true });
  expect(start, 202, 'POST upload');
  let loc = new URL(start.headers.location, s.base);
  for (let off = 0; off < data.length; off += chunk) {
    const end = Math.min(off + chunk, data.length) - 1;
    const res = await request(s.agent, 'PATCH', loc.href, {
      headers: { 'Content-Type': 'application/octet-stream', 'Content-Range': `${off}-${end}` },
      body: data.subarray(off, end + 1),
      keep: true,
    });
    expect(res, 202, 'PATCH upload');
    loc = new URL(res.headers.location, s.base);
  }
  loc.searchParams.set('digest', digest);
  const put = await request(s.agent, 'PUT', loc.href, { keep: true });
  expect(put, 201, 'PUT upload');
}

async function putManifest(s, repo, ref, content) {
  const res = await request(s.agent, 'PUT', `${s.base}/v2/${repo}/manifests/${ref}`, {
    headers: { 'Content-Type': OCI_MANIFEST }, body: content, keep: true,
  });
  expect(res, 201, 'PUT manifest');
}

// ---- seeding: identical content in both registries, through the HTTP API ----------------------
async function seed(servers) {
  const config = Buffer.from(JSON.stringify({
    architecture: 'amd64', os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] },
  }));
  const layer1m = bytesFor('layer-1MiB', MiB);
  const big = bytesFor('layer-big', want(5) ? P.pullSize : 1024);
  const blobs = [
    { data: config, digest: sha256(config), mediaType: 'application/vnd.oci.image.config.v1+json' },
    { data: layer1m, digest: sha256(layer1m), mediaType: 'application/vnd.oci.image.layer.v1.tar' },
    { data: big, digest: sha256(big), mediaType: 'application/vnd.oci.image.layer.v1.tar' },
  ];
  const manifest = Buffer.from(JSON.stringify({
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    config: { mediaType: blobs[0].mediaType, digest: blobs[0].digest, size: config.length },
    layers: blobs.slice(1).map((b) => ({ mediaType: b.mediaType, digest: b.digest, size: b.data.length })),
    annotations: { 'org.opencontainers.image.title': 'berth-bench' },
  }));
  for (const s of servers) {
    for (const b of blobs) await pushMonolithic(s, REPO, b.data, b.digest);
    await putManifest(s, REPO, TAG, manifest);
    // Both must serve the very same bytes.
    const m = await request(s.agent, 'GET', `${s.base}/v2/${REPO}/manifests/${TAG}`, { headers: { Accept: OCI_MANIFEST }, keep: true });
    expect(m, 200, 'GET manifest');
    if (!m.body.equals(manifest) || m.headers['docker-content-digest'] !== sha256(manifest)) {
      throw new Error(`${s.label} serves another manifest than it was given`);
    }
  }
  return {
    manifest, manifestDigest: sha256(manifest), layer1m: blobs[1].digest, big: blobs[2].digest, bigData: big,
  };
}

// ---- measurement helpers ---------------------------------------------------------------------
function serverSnapshot(s) {
  return { cpu: procCpuSeconds(s.pid), t: performance.now() };
}
function serverDelta(s, before) {
  return { serverCpu: procCpuSeconds(s.pid) - before.cpu, wall: (performance.now() - before.t) / 1000 };
}

/**
 * Runs `cmd` on the client CPU under bash, whose `times` builtin then prints the child's CPU
 * time as the last line. Resolves with the exit code, stdout, stderr and those CPU seconds.
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

/** Runs a command on the client CPU; resolves with its stdout and its CPU seconds. */
async function timed(cmd) {
  const { code, out, err, cpu } = await onClientCpu(cmd);
  if (code !== 0) throw new Error(`${cmd[0]} failed (${code}): ${out}\n${err}`);
  return { out, cpu };
}

/** One wrk run (on the client CPU); returns wrk's summary plus wrk's own CPU time. */
async function wrk({ url, method = 'GET', headers = {}, conns, seconds }) {
  const cmd = [];
  if (method === 'HEAD') {
    // wrk 4.1 hangs on HEAD (it waits for a body); our raw-socket HEAD generator replaces it.
    cmd.push(process.execPath, path.join(HERE, 'head-load.mjs'), url, String(conns), String(seconds));
  } else {
    cmd.push('wrk', '-t1', `-c${conns}`, `-d${seconds}s`, '--timeout', '10s', '-s', path.join(HERE, 'report.lua'));
    for (const [k, v] of Object.entries(headers)) cmd.push('-H', `${k}: ${v}`);
    cmd.push(url);
  }
  const { code, out, err, cpu } = await onClientCpu(cmd, { ...process.env, BENCH_METHOD: method });
  const line = out.split('\n').find((l) => l.startsWith('BENCHJSON '));
  if (code !== 0 || !line) throw new Error(`wrk failed (${code}): ${out}\n${err}`);
  const r = JSON.parse(line.slice('BENCHJSON '.length));
  r.clientCpu = cpu;
  r.errors = r.connect + r.read + r.write + r.status + r.timeout;
  return r;
}

const results = []; // { workload, metric, unit, better: 'higher'|'lower', values: {Distribution, Berth}, note }
function add(workload, metric, unit, better, values, note = '') {
  results.push({ workload, metric, unit, better, values, note });
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

async function wrkWorkload(servers, name, { path: p, method, headers, conns, mib }) {
  log(`${name}: warm-up`);
  for (const s of servers) resetPeakRss(s.pid);
  for (const s of servers) {
    const w = await wrk({ url: s.base + p, method, headers, conns, seconds: P.wrkWarmSeconds });
    if (w.errors) throw new Error(`${name} warm-up against ${s.label}: ${JSON.stringify(w)}`);
  }
  const per = await alternate(servers, P.runs, async (s) => {
    const before = serverSnapshot(s);
    const w = await wrk({ url: s.base + p, method, headers, conns, seconds: P.wrkSeconds });
    const d = serverDelta(s, before);
    if (w.errors) throw new Error(`${name} against ${s.label}: errors ${JSON.stringify(w)}`);
    const secs = w.duration_us / 1e6;
    const run = {
      rps: w.requests / secs,
      mibps: w.bytes / MiB / secs,
      p50: w.p50_us / 1000,
      p99: w.p99_us / 1000,
      serverCpuPct: (100 * d.serverCpu) / d.wall,
      cpuPerReq: (1e6 * d.serverCpu) / w.requests,
      clientCpuPct: (100 * w.clientCpu) / secs,
    };
    log(`${name} ${s.label}: ${run.rps.toFixed(0)} req/s p50 ${run.p50.toFixed(2)} ms p99 ${run.p99.toFixed(2)} ms, server CPU ${run.serverCpuPct.toFixed(0)}%, wrk CPU ${run.clientCpuPct.toFixed(0)}%`);
    return run;
  });
  add(name, 'requests/s', 'req/s', 'higher', medianOf(per, 'rps'));
  if (mib) add(name, 'throughput', 'MiB/s', 'higher', medianOf(per, 'mibps'));
  add(name, 'latency p50', 'ms', 'lower', medianOf(per, 'p50'));
  add(name, 'latency p99', 'ms', 'lower', medianOf(per, 'p99'));
  add(name, 'server CPU per request', 'µs', 'lower', medianOf(per, 'cpuPerReq'));
  add(name, 'server CPU busy', '% of 1 core', 'info', medianOf(per, 'serverCpuPct'));
  add(name, 'peak RSS', 'MiB', 'lower', peakRss(servers));
  add(name, `load generator CPU (${method === 'HEAD' ? 'node raw sockets' : 'wrk'})`, '% of 1 core', 'info', medianOf(per, 'clientCpuPct'));
}

/** A bounded batch of work driven from this process; CPU of this process is the load generator's. */
async function nodeWorkload(servers, name, { runs, warm, work, bytes }) {
  log(`${name}: warm-up`);
  for (const s of servers) resetPeakRss(s.pid);
  for (const s of servers) await warm(s);
  const per = await alternate(servers, runs, async (s, r) => {
    const prepared = work.prepare ? work.prepare(r) : undefined; // outside the timing
    const before = serverSnapshot(s);
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const ran = await work.run(s, r, prepared); // may report its own (child process) CPU
    const secs = (performance.now() - t0) / 1000;
    const cpu = process.cpuUsage(cpu0);
    const d = serverDelta(s, before);
    const run = {
      mibps: bytes / MiB / secs,
      secs,
      serverCpuPct: (100 * d.serverCpu) / d.wall,
      cpuPerMiB: (1000 * d.serverCpu) / (bytes / MiB),
      clientCpuPct: (100 * (ran?.clientCpu ?? (cpu.user + cpu.system) / 1e6)) / secs,
    };
    log(`${name} ${s.label}: ${run.mibps.toFixed(0)} MiB/s (${secs.toFixed(2)} s), server CPU ${run.serverCpuPct.toFixed(0)}%, load-gen CPU ${run.clientCpuPct.toFixed(0)}%`);
    return run;
  });
  add(name, 'throughput', 'MiB/s', 'higher', medianOf(per, 'mibps'));
  add(name, 'server CPU per MiB', 'ms', 'lower', medianOf(per, 'cpuPerMiB'));
  add(name, 'server CPU busy', '% of 1 core', 'info', medianOf(per, 'serverCpuPct'));
  add(name, 'peak RSS', 'MiB', 'lower', peakRss(servers));
  add(name, `load generator CPU (${work.client ?? 'node'})`, '% of 1 core', 'info', medianOf(per, 'clientCpuPct'));
}

/**
 * `count` sequential GETs of one blob on one keep-alive connection, by curl (C, one reused buffer):
 * a Node client allocates a fresh 64 KiB Buffer per chunk, and on this VM the page faults of that
 * made the client, not the server, the bottleneck above ~300-1500 MiB/s (erratic).
 */
async function curlPull(s, digest, count) {
  const url = `${s.base}/v2/${REPO}/blobs/${digest}`;
  const cmd = ['curl', '-s', '-S', '-w', 'BENCHCURL %{http_code} %{size_download}\n'];
  for (let i = 0; i < count; i++) cmd.push('-o', '/dev/null', url);
  const { out, cpu } = await timed(cmd);
  const got = out.split('\n').filter((l) => l.startsWith('BENCHCURL '));
  if (got.length !== count || got.some((l) => l !== `BENCHCURL 200 ${P.pullSize}`)) throw new Error(`curl pull: ${out}`);
  return { clientCpu: cpu };
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

function smallBlobSet(tag, count) {
  return Array.from({ length: count }, (_, i) => {
    const data = bytesFor(`${tag}-${i}`, MiB);
    return { data, digest: sha256(data) };
  });
}

async function pull(s, digest, verify) {
  return new Promise((resolve, reject) => {
    const req = http.get({ agent: s.agent, host: '127.0.0.1', port: new URL(s.base).port, path: `/v2/${REPO}/blobs/${digest}` }, (res) => {
      if (res.statusCode !== 200) return reject(new Error(`pull: ${res.statusCode}`));
      const h = verify ? createHash('sha256') : undefined;
      let bytes = 0;
      res.on('data', (c) => { bytes += c.length; h?.update(c); });
      res.on('end', () => {
        if (bytes !== P.pullSize) return reject(new Error(`pull: ${bytes} bytes`));
        if (h && `sha256:${h.digest('hex')}` !== digest) return reject(new Error('pull: digest mismatch'));
        resolve(bytes);
      });
      res.on('error', reject);
    });
    req.on('error', reject);
  });
}

// ---- the run ---------------------------------------------------------------------------------
function versions() {
  const v = { node: process.version, kernel: fs.readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim() };
  try { v.distribution = execFileSync('docker-registry', ['--version']).toString().trim().split(/\s+/).pop(); } catch { /* */ }
  try { v.berth = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { /* */ }
  try { v.berthCommit = execFileSync('git', ['-C', ROOT, 'rev-parse', '--short', 'HEAD']).toString().trim(); } catch { /* */ }
  try { v.berthDirty = execFileSync('git', ['-C', ROOT, 'status', '--porcelain', 'src']).toString().trim() !== ''; } catch { /* */ }
  try { v.wrk = execFileSync('dpkg-query', ['-W', '-f=${Version}', 'wrk']).toString().trim(); } catch { /* */ }
  try { v.fastify = JSON.parse(fs.readFileSync(path.join(ROOT, 'node_modules/fastify/package.json'), 'utf8')).version; } catch { /* */ }
  try { v.cpu = /model name\s*:\s*(.*)/.exec(fs.readFileSync('/proc/cpuinfo', 'utf8'))[1]; } catch { /* */ }
  return v;
}

function fmt(x) {
  if (!Number.isFinite(x)) return 'n/a';
  if (Math.abs(x) >= 1000) return x.toFixed(0);
  if (Math.abs(x) >= 100) return x.toFixed(1);
  if (Math.abs(x) >= 10) return x.toFixed(2);
  return x.toFixed(3);
}

function table() {
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

async function main() {
  const started = new Date();
  fs.mkdirSync(OUT, { recursive: true });
  log(`parameters ${JSON.stringify(P)}${QUICK ? ' (QUICK)' : ''}`);
  const servers = [await startServer('distribution'), await startServer('berth')];
  const idleRss = Object.fromEntries(servers.map((s) => [s.label, procStatusKb(s.pid, 'VmRSS') / 1024]));
  log(`servers up: ${servers.map((s) => `${s.label} ${s.base} pid ${s.pid}`).join(', ')}`);

  const seeded = await seed(servers);
  log(`seeded ${REPO}:${TAG} (${seeded.manifestDigest}, ${seeded.manifest.length} bytes) in both`);
  add('0. idle', 'RSS at start', 'MiB', 'lower', idleRss);

  // 1. manifest GET by tag
  if (want(1)) await wrkWorkload(servers, '1. manifest GET by tag', {
    path: `/v2/${REPO}/manifests/${TAG}`, headers: { Accept: OCI_MANIFEST }, conns: P.manifestConns,
  });
  // 2. blob HEAD
  if (want(2)) await wrkWorkload(servers, '2. blob HEAD', {
    path: `/v2/${REPO}/blobs/${seeded.layer1m}`, method: 'HEAD', conns: P.headConns,
  });
  // 3. blob GET 1 MiB
  if (want(3)) await wrkWorkload(servers, '3. blob GET 1 MiB', {
    path: `/v2/${REPO}/blobs/${seeded.layer1m}`, conns: P.blobConns, mib: true,
  });

  // 4. pushes. Each run pushes blobs never seen by that registry (fresh content per run).
  const smallBytes = P.smallBlobs * MiB;
  if (want(4)) {
  await nodeWorkload(servers, `4a. push ${P.smallBlobs} x 1 MiB, monolithic (POST+PUT), ${P.smallConcurrency} parallel`, {
    runs: P.runs, bytes: smallBytes,
    warm: async (s) => { for (const b of smallBlobSet(`warm-mono-${s.kind}`, 5)) await pushMonolithic(s, REPO, b.data, b.digest); },
    work: {
      prepare: (r) => smallBlobSet(`mono-${r}`, P.smallBlobs),
      run: (s, r, blobs) => inParallel(blobs, P.smallConcurrency, (b) => pushMonolithic(s, REPO, b.data, b.digest)),
    },
  });
  await nodeWorkload(servers, `4b. push ${P.smallBlobs} x 1 MiB, chunked (POST+4 PATCH+PUT), ${P.smallConcurrency} parallel`, {
    runs: P.runs, bytes: smallBytes,
    warm: async (s) => { for (const b of smallBlobSet(`warm-chunk-${s.kind}`, 5)) await pushChunked(s, REPO, b.data, b.digest, P.smallChunk); },
    work: {
      prepare: (r) => smallBlobSet(`chunked-${r}`, P.smallBlobs),
      run: (s, r, blobs) => inParallel(blobs, P.smallConcurrency, (b) => pushChunked(s, REPO, b.data, b.digest, P.smallChunk)),
    },
  });
  const large = bytesFor('large-push', P.largeSize);
  // Large blobs: one buffer, a distinct 32-byte prefix per blob (digests computed before timing).
  const largeDigests = (tag) => Array.from({ length: P.largeBlobs }, (_, i) => {
    large.write(`${tag}-${i}`.padEnd(32, '.'), 0);
    return { prefix: `${tag}-${i}`.padEnd(32, '.'), digest: sha256(large) };
  });
  const pushLarge = async (s, blobs, push) => {
    for (const b of blobs) {
      large.write(b.prefix, 0);
      await push(s, b.digest);
    }
  };
  const largeMiB = P.largeSize / MiB;
  await nodeWorkload(servers, `4c. push ${P.largeBlobs} x ${largeMiB} MiB, monolithic, one at a time`, {
    runs: P.largeRuns, bytes: P.largeBlobs * P.largeSize,
    warm: async () => {},
    work: {
      prepare: (r) => largeDigests(`mono-${r}`),
      run: (s, r, blobs) => pushLarge(s, blobs, (s2, d) => pushMonolithic(s2, REPO, large, d)),
    },
  });
  await nodeWorkload(servers, `4d. push ${P.largeBlobs} x ${largeMiB} MiB, chunked (${P.largeChunk / MiB} MiB PATCHes)`, {
    runs: P.largeRuns, bytes: P.largeBlobs * P.largeSize,
    warm: async () => {},
    work: {
      prepare: (r) => largeDigests(`chunked-${r}`),
      run: (s, r, blobs) => pushLarge(s, blobs, (s2, d) => pushChunked(s2, REPO, large, d, P.largeChunk)),
    },
  });

  }

  // 5. large pull, single stream (warm-up pull verifies the digest; measured pulls count bytes)
  if (want(5)) await nodeWorkload(servers, `5. pull ${P.pullSize / MiB} MiB blob, single stream (${P.pullsPerRun} in a row)`, {
    runs: P.pullRuns, bytes: P.pullsPerRun * P.pullSize,
    warm: (s) => pull(s, seeded.big, true),
    work: { client: 'curl', run: (s) => curlPull(s, seeded.big, P.pullsPerRun) },
  });

  for (const s of servers) s.agent.destroy();
  for (const s of servers) await stopServer(s);
  for (const s of servers) fs.copyFileSync(path.join(WORK, s.kind, 'server.log'), path.join(OUT, `${s.kind}.log`));
  const finished = new Date();

  const v = versions();
  const header = [
    `Berth ${v.berth ?? '?'}${v.berthCommit ? ` (${v.berthCommit}${v.berthDirty ? ', src/ modified' : ''})` : ''} on Node ${v.node} (fastify ${v.fastify ?? '?'})`
      + ` vs Distribution ${v.distribution ?? '?'} (Debian docker-registry)`,
    `${started.toISOString()} .. ${finished.toISOString()} (${((finished - started) / 1000).toFixed(0)} s), ${v.cpu ?? '?'}, kernel ${v.kernel}, wrk ${v.wrk ?? '?'}`,
    `servers pinned to CPU ${SERVER_CPU}, load generator to CPU ${CLIENT_CPU}; ${P.runs} measured run(s) per workload and server, median shown${QUICK ? ' (QUICK mode: not for publishing)' : ''}`,
    hwmResettable ? 'peak RSS = VmHWM, reset before each workload' : 'peak RSS = VmHWM since start (could not reset it)',
  ];
  const text = `${header.join('\n')}\n\n${table()}\n`;
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
