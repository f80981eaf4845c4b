#!/usr/bin/env node
// The read API's budgets (issue 17): a page of 100 repositories out of 10,000 and a page of 100
// artifacts (tags) out of 5,000, each under 50 ms on loopback. Starts Berth in this process on
// filesystem storage with SQLite, seeds it over the registry API (blobs mounted across
// repositories, so seeding is quick), then times pages: first, deep (by cursor) and per sort.
// Run after `npm run build`: node bench/read-api/bench.mjs  (BENCH_REPOS, BENCH_TAGS to change sizes;
// BENCH_ROOT=/some/dir keeps the seeded storage there and a later run with the same BENCH_ROOT
// times it again without seeding)
import { createHash, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { startTestRegistry } from '../../dist/test/support/registry-server.js';

const REPOS = Number(process.env.BENCH_REPOS ?? 10_000);
const TAGS = Number(process.env.BENCH_TAGS ?? 5_000);
const SAMPLES = Number(process.env.BENCH_SAMPLES ?? 50);
const CONCURRENCY = 32;

const sha = (b) => `sha256:${createHash('sha256').update(b).digest('hex')}`;
const blob = (data) => ({ data, digest: sha(data), size: data.length });
const manifestOf = (config, layer) => Buffer.from(JSON.stringify({
  schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
  config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: config.digest, size: config.size },
  layers: [{ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: layer.digest, size: layer.size }],
}));

async function ok(res, what) {
  await res.arrayBuffer();
  if (res.status >= 300) throw new Error(`${what}: ${res.status}`);
}

async function pool(n, fn) {
  let next = 0;
  await Promise.all(Array.from({ length: CONCURRENCY }, async () => {
    while (next < n) await fn(next++);
  }));
}

const ROOT = process.env.BENCH_ROOT;
const seededMark = ROOT ? join(ROOT, 'bench-seeded.json') : undefined;
const seeded = seededMark !== undefined && existsSync(seededMark);
if (ROOT) mkdirSync(ROOT, { recursive: true });
const reg = await startTestRegistry(ROOT ? { root: ROOT } : { storage: 'filesystem' });
const base = reg.url;
const put = (name, ref, body) => fetch(`${base}/v2/${name}/manifests/${ref}`, { method: 'PUT', body, headers: { 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' } });
const upload = (name, b) => fetch(`${base}/v2/${name}/blobs/uploads/?digest=${b.digest}`, { method: 'POST', body: b.data });
const mount = (name, b, from) => fetch(`${base}/v2/${name}/blobs/uploads/?mount=${b.digest}&from=${from}`, { method: 'POST' });
async function seed() {
  const seedStart = performance.now();
  const layer = blob(randomBytes(4096));
  const config = blob(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64' })));
  await ok(await upload('seed/base', layer), 'layer');
  await ok(await upload('seed/base', config), 'config');
  const shared = manifestOf(config, layer);
  await ok(await put('seed/base', 'v1', shared), 'manifest');
  await pool(REPOS - 1, async (i) => {
    const name = `p${String(i % 100).padStart(2, '0')}/repo-${String(i).padStart(5, '0')}`;
    await ok(await mount(name, layer, 'seed/base'), 'mount');
    await ok(await mount(name, config, 'seed/base'), 'mount');
    await ok(await put(name, 'v1', shared), 'manifest');
  });
  await ok(await mount('big/app', layer, 'seed/base'), 'mount');
  await pool(TAGS, async (i) => {
    const own = blob(Buffer.from(JSON.stringify({ os: 'linux', architecture: 'amd64', build: i })));
    await ok(await upload('big/app', own), 'config');
    await ok(await put('big/app', `build-${String(i).padStart(5, '0')}`, manifestOf(own, layer)), 'manifest');
  });
  const seedSeconds = (performance.now() - seedStart) / 1000;
  if (seededMark) writeFileSync(seededMark, JSON.stringify({ repos: REPOS, tags: TAGS, seedSeconds }));
  return seedSeconds;
}

try {
  const seedSeconds = seeded ? undefined : await seed();

  async function time(label, path) {
    const ms = [];
    let body;
    for (let i = 0; i < SAMPLES + 5; i++) {
      const t = performance.now();
      const res = await fetch(`${base}${path}`);
      body = await res.json();
      if (res.status !== 200) throw new Error(`${path}: ${res.status} ${JSON.stringify(body)}`);
      if (i >= 5) ms.push(performance.now() - t);
    }
    ms.sort((a, b) => a - b);
    const q = (p) => ms[Math.min(ms.length - 1, Math.floor(p * ms.length))].toFixed(1);
    return { label, items: body.items.length, p50: q(0.5), p95: q(0.95), max: ms[ms.length - 1].toFixed(1), next: body.next };
  }
  const rows = [];
  const first = await time('repositories, first page (name)', '/api/v1/repositories?limit=100');
  rows.push(first);
  let cursor = first.next;
  for (let i = 0; i < 49 && cursor; i++) cursor = (await (await fetch(`${base}/api/v1/repositories?limit=100&cursor=${cursor}`)).json()).next;
  if (cursor) rows.push(await time('repositories, page 51 (name, by cursor)', `/api/v1/repositories?limit=100&cursor=${cursor}`));
  rows.push(await time('repositories, first page (last push)', '/api/v1/repositories?limit=100&sort=lastPush'));
  rows.push(await time('repositories, first page (size)', '/api/v1/repositories?limit=100&sort=size'));
  rows.push(await time('repositories, search q=repo-09', '/api/v1/repositories?limit=100&q=repo-09'));
  const tagsFirst = await time('artifacts of big/app, first page (push time)', '/api/v1/repositories/big/app/-/artifacts?limit=100');
  rows.push(tagsFirst);
  let tc = tagsFirst.next;
  for (let i = 0; i < 24 && tc; i++) tc = (await (await fetch(`${base}/api/v1/repositories/big/app/-/artifacts?limit=100&cursor=${tc}`)).json()).next;
  if (tc) rows.push(await time('artifacts of big/app, page 26 (push time, by cursor)', `/api/v1/repositories/big/app/-/artifacts?limit=100&cursor=${tc}`));
  const byName = await time('artifacts of big/app, first page (name)', '/api/v1/repositories/big/app/-/artifacts?limit=100&sort=name');
  rows.push(byName);
  let nc = byName.next;
  for (let i = 0; i < 24 && nc; i++) nc = (await (await fetch(`${base}/api/v1/repositories/big/app/-/artifacts?limit=100&sort=name&cursor=${nc}`)).json()).next;
  if (nc) rows.push(await time('artifacts of big/app, page 26 (name, by cursor)', `/api/v1/repositories/big/app/-/artifacts?limit=100&sort=name&cursor=${nc}`));
  rows.push(await time('artifacts of big/app, tag filter "build-04"', '/api/v1/repositories/big/app/-/artifacts?limit=100&tag=build-04'));
  console.log(`${REPOS} repositories and ${TAGS} tagged artifacts in one repository, ${seedSeconds === undefined ? `seeded earlier in ${ROOT}` : `seeded in ${seedSeconds.toFixed(0)} s`}; ${SAMPLES} timed requests each after 5 warm-ups`);
  console.log('| page | items | p50 ms | p95 ms | max ms |\n| --- | --- | --- | --- | --- |');
  for (const r of rows) console.log(`| ${r.label} | ${r.items} | ${r.p50} | ${r.p95} | ${r.max} |`);
} finally {
  await reg.close();
}
