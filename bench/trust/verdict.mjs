// Content trust cost (issue 19): a first (uncached) verdict on a cosign key signature, in process,
// and manifest GET latency at c=32 for a repository under an enforce policy (cached verdict)
// against one no policy covers. Run after `npm run build`: node bench/trust/verdict.mjs
import { mkdtemp } from 'node:fs/promises';
import { startTestRegistry } from '../../dist/test/support/registry-server.js';
import { blob, imageManifest } from '../../dist/test/support/oci-fixtures.js';
import { pushImage } from '../../dist/test/support/push.js';
import { makePki } from '../../dist/test/trust/support/pki.js';
import { cosignLayer, opensslSign, pushCosign, simpleSigning } from '../../dist/test/trust/support/fixtures.js';
const dir = await mkdtemp('/tmp/trust-bench-');
const pki = await makePki(dir);
const reg = await startTestRegistry({ configure: (c) => { c.trust.policies = [{ name: 'p', repositories: ['signed/*'], mode: 'enforce', keys: [pki.keys.p256.pub], exempt: [] }]; } });
const cfg = blob('{"a":1}'), layer = blob('x'.repeat(100)); const m = imageManifest(cfg, [layer]);
for (const r of ['signed/app', 'open/app']) await pushImage(reg.url, r, 'v1', cfg, [layer], m);
const p = simpleSigning('signed/app', m.digest);
await pushCosign(reg.url, 'signed/app', m, [cosignLayer(p, { 'dev.cosignproject.cosign/signature': await opensslSign(dir, pki.keys.p256.key, p) })]);
const first = [];
for (let i = 0; i < 50; i++) { const t = performance.now(); await reg.server.trust.verdict('signed/app', m.digest, { fresh: true }); first.push(performance.now() - t); }
async function load(repo, n = 4000, c = 32) {
  const lat = []; let i = 0;
  await Promise.all(Array.from({ length: c }, async () => { while (i++ < n) { const t = performance.now(); const r = await fetch(`${reg.url}/v2/${repo}/manifests/v1`); await r.arrayBuffer(); if (r.status !== 200) throw new Error(String(r.status)); lat.push(performance.now() - t); } }));
  lat.sort((a, b) => a - b); return { p50: lat[lat.length >> 1].toFixed(2), p99: lat[Math.floor(lat.length * 0.99)].toFixed(2) };
}
await load('open/app', 500); await load('signed/app', 500);
const open1 = await load('open/app'); const signed1 = await load('signed/app'); const open2 = await load('open/app'); const signed2 = await load('signed/app');
first.sort((a, b) => a - b);
console.log(JSON.stringify({ uncachedVerdictMs: { p50: first[25].toFixed(2), max: first[49].toFixed(2) }, open1, signed1, open2, signed2 }));
await reg.close();
