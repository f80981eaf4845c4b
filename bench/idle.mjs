// Idle memory and start time of a default `berth serve` (filesystem + SQLite), without the full
// bench: issue 22's "idle RSS < 50 MiB" and "start to first answer < 1 s" can be checked in a few
// seconds, before and after a change, with the modules that a start loads listed by package.
//
//   node bench/idle.mjs                    # 3 starts: ms to the first 200 on /v2/, RSS, CPU
//   BENCH_IDLE_RUNS=5 BENCH_IDLE_WAIT=5 node bench/idle.mjs
//   BENCH_BERTH_ROOT=/work/main node bench/idle.mjs   # another checkout's build (A/B)
//   node bench/idle.mjs --modules          # one more start that lists the modules loaded, by package
//   node bench/idle.mjs -- REGISTRY_HTTP_DEBUG_ADDR=127.0.0.1:0   # extra environment for the server
//
// Each start gets a fresh data directory in /tmp and the bench's quiet logging; the server is
// pinned to BENCH_SERVER_CPU (default 1) like bench.mjs's. RSS is read from /proc at the first
// answer and again after BENCH_IDLE_WAIT seconds (default 3) of no requests; RssAnon / RssFile
// split it into the heap and the mapped node binary and libraries.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const BERTH_ROOT = process.env.BENCH_BERTH_ROOT ?? path.dirname(HERE);
const RUNS = Number(process.env.BENCH_IDLE_RUNS ?? 3);
const WAIT_S = Number(process.env.BENCH_IDLE_WAIT ?? 3);
const SERVER_CPU = process.env.BENCH_SERVER_CPU ?? '1';
const NODE_FLAGS = (process.env.BENCH_BERTH_NODE_FLAGS ?? '').split(/\s+/).filter(Boolean);
const argv = process.argv.slice(2);
const LIST_MODULES = argv.includes('--modules');
const EXTRA_ENV = Object.fromEntries(argv.slice(argv.indexOf('--') + 1 || argv.length).map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
const CLK_TCK = 100;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    }).on('error', reject);
  });
}

function status(pid) {
  const text = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  const kb = (key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text)?.[1] ?? NaN);
  return { rss: kb('VmRSS') / 1024, anon: kb('RssAnon') / 1024, file: kb('RssFile') / 1024 };
}

function cpuSeconds(pid) {
  const s = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

function get(url) {
  return new Promise((resolve) => {
    http.get(url, { agent: false }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode));
    }).on('error', () => resolve(0));
  });
}

/** A hook file that appends every module URL a start resolves (ES modules and require()) to `out`. */
function moduleListHook(dir, out) {
  const hooks = path.join(dir, 'hooks.mjs');
  fs.writeFileSync(hooks, [
    "import fs from 'node:fs';",
    'export async function resolve(specifier, context, next) {',
    '  const r = await next(specifier, context);',
    `  fs.appendFileSync(${JSON.stringify(out)}, r.url + '\\n');`,
    '  return r;',
    '}',
  ].join('\n'));
  const entry = path.join(dir, 'list-modules.mjs');
  fs.writeFileSync(entry, [
    "import fs from 'node:fs';",
    "import module from 'node:module';",
    `module.register(${JSON.stringify(pathToFileURL(hooks).href)});`,
    // require() inside CommonJS packages does not pass through the ES resolve hook on Node 20.
    "const Module = module.Module ?? module;",
    'const load = Module._load;',
    'Module._load = function (request, parent, isMain) {',
    '  const r = load.apply(this, arguments);',
    `  try { const f = Module._resolveFilename(request, parent, isMain); if (f.startsWith('/')) fs.appendFileSync(${JSON.stringify(out)}, 'file://' + f + '\\n'); } catch {}`,
    '  return r;',
    '};',
  ].join('\n'));
  return entry;
}

async function start(dir, flags) {
  const port = await freePort();
  const data = path.join(dir, 'data');
  fs.mkdirSync(data, { recursive: true });
  const log = fs.openSync(path.join(dir, 'server.log'), 'w');
  const child = spawn('taskset', ['-c', SERVER_CPU, process.execPath, ...NODE_FLAGS, ...flags, path.join(BERTH_ROOT, 'bin/berth.js'), 'serve'], {
    stdio: ['ignore', log, log],
    env: {
      ...process.env,
      REGISTRY_HTTP_ADDR: `127.0.0.1:${port}`,
      REGISTRY_STORAGE_FILESYSTEM_ROOTDIRECTORY: data,
      REGISTRY_LOG_LEVEL: 'error',
      REGISTRY_LOG_ACCESSLOG_DISABLED: 'true',
      ...EXTRA_ENV,
    },
  });
  const t0 = performance.now();
  for (let i = 0; i < 3000; i++) {
    if (child.exitCode !== null) break;
    if (await get(`http://127.0.0.1:${port}/v2/`) === 200) return { child, ms: performance.now() - t0 };
    await sleep(10);
  }
  child.kill('SIGKILL');
  throw new Error(`berth serve did not answer; see ${path.join(dir, 'server.log')}`);
}

async function stop(child) {
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  await Promise.race([exited, sleep(15000)]);
  if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}

function packageOf(url) {
  if (url.startsWith('node:') || !url.startsWith('file:')) return null;
  const p = fileURLToPath(url);
  const i = p.lastIndexOf('/node_modules/');
  if (i < 0) return p.startsWith(BERTH_ROOT) ? `berth ${path.relative(BERTH_ROOT, p).split('/').slice(0, 3).join('/')}` : p;
  const rest = p.slice(i + '/node_modules/'.length).split('/');
  return rest[0].startsWith('@') ? `${rest[0]}/${rest[1]}` : rest[0];
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'berth-idle.'));
const rows = [];
try {
  console.log(`berth ${BERTH_ROOT}, node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (let i = 0; i < RUNS; i++) {
    const dir = path.join(root, `run-${i}`);
    const { child, ms } = await start(dir, []);
    const first = status(child.pid);
    const cpu = cpuSeconds(child.pid);
    await sleep(WAIT_S * 1000);
    const idle = status(child.pid);
    rows.push({ ms, first: first.rss, idle: idle.rss, anon: idle.anon, file: idle.file, cpu });
    await stop(child);
  }
  if (rows.length > 0) {
    console.log('| start | first answer (ms) | server CPU to it (s) | RSS at first answer (MiB) | RSS idle (MiB) | RssAnon | RssFile |');
    console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
    rows.forEach((r, i) => console.log(`| ${i + 1} | ${r.ms.toFixed(0)} | ${r.cpu.toFixed(2)} | ${r.first.toFixed(1)} | ${r.idle.toFixed(1)} | ${r.anon.toFixed(1)} | ${r.file.toFixed(1)} |`));
    const med = (k) => rows.map((r) => r[k]).sort((a, b) => a - b)[Math.floor(rows.length / 2)];
    console.log(`median: first answer ${med('ms').toFixed(0)} ms, idle RSS ${med('idle').toFixed(1)} MiB (anon ${med('anon').toFixed(1)}, file ${med('file').toFixed(1)}); load average now ${os.loadavg()[0].toFixed(1)}`);
  }

  if (LIST_MODULES) {
    const dir = path.join(root, 'modules');
    fs.mkdirSync(dir, { recursive: true });
    const out = path.join(dir, 'modules.txt');
    const { child } = await start(dir, ['--import', pathToFileURL(moduleListHook(dir, out)).href]);
    await sleep(1000);
    await stop(child);
    const urls = [...new Set(fs.readFileSync(out, 'utf8').split('\n').filter((u) => u.startsWith('file:')))];
    const byPackage = new Map();
    for (const u of urls) {
      const p = packageOf(u);
      if (p) byPackage.set(p, (byPackage.get(p) ?? 0) + 1);
    }
    console.log(`modules loaded by a start (files, not node: built-ins): ${urls.length}`);
    for (const [p, n] of [...byPackage].sort((a, b) => b[1] - a[1])) console.log(`${String(n).padStart(5)}  ${p}`);
  }
} finally {
  if (!process.env.BENCH_IDLE_KEEP) fs.rmSync(root, { recursive: true, force: true }); else console.log(`kept ${root}`);
}
