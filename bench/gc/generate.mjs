#!/usr/bin/env node
// Writes a registry in Distribution's v2 layout straight to disk (no HTTP): by default 20,000
// manifests over 200 repositories and 100,000 blobs in all (each manifest, its config, two or
// three layers; 10% of manifests untagged; 5,000 blobs nothing references). Usage:
//   node bench/gc/generate.mjs DIR [manifests] [totalBlobs]
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

const [dir, manifestsArg, blobsArg] = process.argv.slice(2);
if (!dir) {
  console.error('usage: generate.mjs DIR [manifests=20000] [blobs=100000]');
  process.exit(2);
}
const MANIFESTS = Number(manifestsArg ?? 20_000);
const BLOBS = Number(blobsArg ?? 100_000);
const REPOS = Math.max(1, Math.round(MANIFESTS / 100));
const v2 = join(dir, 'docker/registry/v2');
const digestOf = (data) => createHash('sha256').update(data).digest('hex');
let written = 0;

async function putBlob(data) {
  const hex = digestOf(data);
  const d = join(v2, 'blobs/sha256', hex.slice(0, 2), hex);
  await mkdir(d, { recursive: true });
  await writeFile(join(d, 'data'), data);
  written++;
  return hex;
}

async function link(path, hex) {
  await mkdir(path, { recursive: true });
  await writeFile(join(path, 'link'), `sha256:${hex}`);
}

// Layers per manifest so that manifests + configs + layers + orphans = BLOBS.
const orphans = Math.round(BLOBS * 0.05);
const layerTotal = BLOBS - orphans - 2 * MANIFESTS;
const started = Date.now();
let layersLeft = layerTotal;
const batch = [];
for (let i = 0; i < MANIFESTS; i++) {
  batch.push((async () => {
    const repo = `project${i % 10}/repo${i % REPOS}`;
    const r = join(v2, 'repositories', repo);
    const nLayers = Math.floor(layerTotal / MANIFESTS) + (i < layerTotal % MANIFESTS ? 1 : 0);
    const config = Buffer.from(JSON.stringify({ architecture: 'amd64', os: 'linux', n: i }));
    const configHex = await putBlob(config);
    await link(join(r, '_layers/sha256', configHex), configHex);
    const layers = [];
    for (let l = 0; l < nLayers; l++) {
      const data = randomBytes(256 + (i % 512));
      const hex = await putBlob(data);
      await link(join(r, '_layers/sha256', hex), hex);
      layers.push({ mediaType: 'application/vnd.oci.image.layer.v1.tar+gzip', digest: `sha256:${hex}`, size: data.length });
    }
    const manifest = Buffer.from(JSON.stringify({
      schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json',
      config: { mediaType: 'application/vnd.oci.image.config.v1+json', digest: `sha256:${configHex}`, size: config.length },
      layers,
    }));
    const mHex = await putBlob(manifest);
    await link(join(r, '_manifests/revisions/sha256', mHex), mHex);
    if (i % 10 !== 0) {
      const tag = `v${i}`;
      await link(join(r, '_manifests/tags', tag, 'current'), mHex);
      await link(join(r, '_manifests/tags', tag, 'index/sha256', mHex), mHex);
    }
  })());
  if (batch.length >= 64) await Promise.all(batch.splice(0));
}
await Promise.all(batch);
for (let i = 0; i < orphans; i++) batch.push(putBlob(randomBytes(512)));
await Promise.all(batch);
layersLeft = 0;
console.log(JSON.stringify({ dir, manifests: MANIFESTS, repositories: REPOS, blobs: written, seconds: (Date.now() - started) / 1000 }));
