// bench/s3-chunked.mjs - one chunked upload (BENCH_PATCHES PATCHes of BENCH_PATCH_MIB MiB, then
// the PUT) through Berth's upload service on an S3 endpoint (radosgw from ../shared/s3/), with
// every S3 request counted: wall time of the PATCHes and of the PUT, requests by kind, bytes sent
// as parts, bytes copied server-side. BERTH_ROOT picks the build to measure (A/B of a patch).
//
//   S3_ENDPOINT=http://127.0.0.1:PORT AWS_ACCESS_KEY_ID=.. AWS_SECRET_ACCESS_KEY=.. node bench/s3-chunked.mjs
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { CreateBucketCommand } from '@aws-sdk/client-s3';

const ROOT = process.env.BERTH_ROOT ?? path.dirname(path.dirname(fileURLToPath(import.meta.url)));
const load = (p) => import(pathToFileURL(path.join(ROOT, 'dist/src', p)).href);
const { S3Driver } = await load('storage/drivers/s3/s3-driver.js');
const { Registry } = await load('registry/registry.js');
const { tryParseDigest } = await load('oci/digest.js');

const MiB = 1024 * 1024;
const patches = Number(process.env.BENCH_PATCHES ?? 20);
const patchBytes = Number(process.env.BENCH_PATCH_MIB ?? 5) * MiB;
const endpoint = process.env.S3_ENDPOINT ?? '';
if (!endpoint) throw new Error('S3_ENDPOINT is required');

const bucket = `bench-${randomUUID().slice(0, 8)}`;
const driver = new S3Driver({
  bucket, regionendpoint: endpoint, region: process.env.AWS_REGION ?? 'us-east-1', forcepathstyle: true, secure: false,
  accesskey: process.env.AWS_ACCESS_KEY_ID, secretkey: process.env.AWS_SECRET_ACCESS_KEY, rootdirectory: '/bench',
});
await driver.client.send(new CreateBucketCommand({ Bucket: bucket }));

const requests = {};
let partBytes = 0;
let copiedBytes = 0;
driver.client.middlewareStack.add((next, context) => async (args) => {
  const name = String(context.commandName ?? '').replace(/Command$/, '');
  requests[name] = (requests[name] ?? 0) + 1;
  if (name === 'UploadPart') partBytes += args.input.ContentLength ?? 0;
  const range = /bytes=(\d+)-(\d+)/.exec(args.input.CopySourceRange ?? '');
  if (range) copiedBytes += Number(range[2]) - Number(range[1]) + 1;
  return next(args);
}, { step: 'initialize', name: 'benchCount' });

const registry = new Registry(driver);
const name = 'bench/chunked';
const id = await registry.uploads.start(name);
const data = Array.from({ length: patches }, () => randomBytes(patchBytes));
const hash = createHash('sha256');
for (const d of data) hash.update(d);
const digest = tryParseDigest(`sha256:${hash.digest('hex')}`);
async function* slices(buf) {
  for (let i = 0; i < buf.length; i += 64 * 1024) yield buf.subarray(i, i + 64 * 1024);
}

const t0 = performance.now();
let offset = 0;
const perPatch = [];
for (const d of data) {
  const t = performance.now();
  offset = await registry.uploads.append(name, id, slices(d), { start: offset });
  perPatch.push(performance.now() - t);
}
const t1 = performance.now();
const snapshot = { ...requests, partMiB: partBytes / MiB, copiedMiB: copiedBytes / MiB };
await registry.uploads.complete(name, id, digest);
const t2 = performance.now();

const total = (patches * patchBytes) / MiB;
console.log(JSON.stringify({
  build: ROOT, patches, patchMiB: patchBytes / MiB,
  patchSeconds: +((t1 - t0) / 1000).toFixed(2), putSeconds: +((t2 - t1) / 1000).toFixed(2),
  mibPerSecond: +(total / ((t2 - t0) / 1000)).toFixed(1),
  firstPatchMs: Math.round(perPatch[0]), lastPatchMs: Math.round(perPatch.at(-1)),
  beforePut: snapshot, all: { ...requests, partMiB: partBytes / MiB, copiedMiB: copiedBytes / MiB },
}, null, 1));
driver.client.destroy();
