// How long the eviction plan takes over a large cache: N images (manifest + config + 3 layers,
// one layer shared by every 10 images) in N/50 repositories, evicting half by maxsize.
// Run after `npm run build`: node bench/proxy/eviction-plan.mjs [images]
import { performance } from 'node:perf_hooks';
import { planEviction } from '../../dist/src/proxy/eviction-plan.js';

const images = Number(process.argv[2] ?? 20_000);
const entries = [];
const refs = new Map();
for (let i = 0; i < images; i++) {
  const repository = `hub/lib/r${i % Math.max(1, Math.floor(images / 50))}`;
  const m = `m${i}`;
  const blobs = [`c${i}`, `l${i}a`, `l${i}b`, `shared${Math.floor(i / 10)}`];
  refs.set(m, { blobs, children: [], subject: undefined });
  entries.push({ repository, digest: m, kind: 'manifest', size: 1000, lastPulledAt: i });
  for (const b of blobs) entries.push({ repository, digest: b, kind: 'blob', size: 1_000_000, lastPulledAt: i });
}
const total = new Set(entries.map((e) => e.digest)).size * 1_000_000;
const started = performance.now();
const plan = planEviction(entries, (d) => refs.get(d), { maxBytes: total / 2, maxAgeMs: 0, now: images });
const ms = performance.now() - started;
console.log(`${images} images, ${entries.length} rows: planned ${plan.evictions.length} evictions in ${ms.toFixed(0)} ms (rss ${(process.memoryUsage().rss / 2 ** 20).toFixed(0)} MiB)`);
