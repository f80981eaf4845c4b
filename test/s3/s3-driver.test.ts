// What the shared suite cannot show about the S3 driver, on a real S3 (radosgw): paging past
// S3's 1000-key pages, an interrupted append continued by another driver instance, stale
// multipart uploads aborted by the upload purger, server-side moves, presigned URLs.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { ListMultipartUploadsCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { S3Driver } from '../../src/storage/drivers/s3/s3-driver.js';
import { Registry } from '../../src/registry/registry.js';
import { layout } from '../../src/registry/layout.js';
import { purgeStaleUploads } from '../../src/registry/upload-purge.js';
import { PathNotFoundError } from '../../src/storage/driver.js';
import { driverOptions, newBucket, radosgw, radosgwSkip, s3Client, stopRadosgw, type RadosGateway } from './support/radosgw.js';
import { commandLog } from './support/command-log.js';

const MiB = 1024 * 1024;
const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('S3 driver on radosgw', { skip: radosgwSkip }, () => {
  let gw: RadosGateway;
  let bucket: string;
  const drivers: S3Driver[] = [];
  const driver = (extra: Parameters<typeof driverOptions>[2] = {}) => {
    const d = new S3Driver(driverOptions(gw, bucket, { rootdirectory: '/reg', chunksize: 5 * MiB, ...extra }));
    drivers.push(d);
    return d;
  };

  const assertNoPendingUploads = async (prefix: string) => {
    const pending = await s3Client(gw).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: prefix }));
    assert.deepEqual(pending.Uploads ?? [], []);
  };

  before(async () => {
    gw = await radosgw();
    bucket = await newBucket(gw);
  });
  after(async () => {
    for (const d of drivers) d.client.destroy();
    await stopRadosgw();
  });

  it('lists a directory of more than 1000 children across pages, and deletes them all', async () => {
    const d = driver();
    const names = Array.from({ length: 1100 }, (_, i) => `/many/f${String(i).padStart(4, '0')}`);
    for (let i = 0; i < names.length; i += 50) {
      await Promise.all(names.slice(i, i + 50).map((n) => d.putContent(n, 'x')));
    }
    await d.putContent('/many/sub/deeper', 'y');
    const listed = await d.list('/many');
    assert.equal(listed.length, 1101);
    assert.deepEqual([...listed].sort(), [...names, '/many/sub'].sort());
    await d.delete('/many');
    await assert.rejects(d.list('/many'), PathNotFoundError);
  });

  it('continues an interrupted append from another driver instance, reusing the parts already copied', async () => {
    const path = `/resume/${randomUUID()}/data`;
    const first = randomBytes(12 * MiB);
    const d1 = driver({ multipartcopychunksize: 5 * MiB });
    await d1.putContent(path, first);
    // Opening an append copies the committed bytes into parts (5 + 7 MiB); then the process dies.
    const w1 = await d1.writer(path, { append: true });
    const interrupted = (w1 as unknown as { uploadId?: string }).uploadId;
    assert.ok(interrupted, 'the append runs as a multipart upload');

    const d2 = driver({ multipartcopychunksize: 5 * MiB });
    const sent = commandLog(d2.client);
    const w2 = await d2.writer(path, { append: true });
    assert.equal(w2.size, first.length);
    assert.equal((w2 as unknown as { uploadId?: string }).uploadId, interrupted, 'the same multipart upload, found by key');
    assert.ok(sent.includes('ListMultipartUploads') && sent.includes('ListParts'), sent.join(','));
    // One GetObject: the look for a pending state (s3-writer.ts), which a committed object has not.
    assert.ok(!sent.includes('UploadPartCopy') && sent.filter((c) => c === 'GetObject').length === 1,
      `the copied parts are reused: ${sent.join(',')}`);
    const tail = randomBytes(3 * MiB);
    await w2.write(tail);
    await w2.commit();
    assert.equal(sha(await d2.getContent(path)), sha(Buffer.concat([first, tail])));
    await assertNoPendingUploads(`reg${path}`);
  });

  it('after a crash with uncommitted bytes uploaded, an append continues from the committed size only', async () => {
    const path = `/resume/${randomUUID()}/data`;
    const first = randomBytes(6 * MiB);
    const d1 = driver();
    await d1.putContent(path, first);
    const w1 = await d1.writer(path, { append: true });
    for (let i = 0; i < 11; i++) await w1.write(randomBytes(MiB));
    // Dies with 10 MiB of parts nobody committed.
    const d2 = driver();
    const w2 = await d2.writer(path, { append: true });
    assert.equal(w2.size, first.length, 'only committed bytes count');
    const tail = randomBytes(2 * MiB);
    await w2.write(tail);
    await w2.commit();
    assert.equal(sha(await d2.getContent(path)), sha(Buffer.concat([first, tail])));
    await assertNoPendingUploads(`reg${path}`);
  });

  it('the upload purger aborts the multipart upload an interrupted PATCH left behind', async () => {
    const d = driver();
    const registry = new Registry(d);
    const id = await registry.uploads.start('purge/me');
    const w = await d.writer(layout.uploadData('purge/me', id), { append: true });
    await w.write(randomBytes(6 * MiB));
    const before = await s3Client(gw).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'reg/docker/registry/v2/repositories/purge/' }));
    assert.equal(before.Uploads?.length, 1, 'a part was uploaded');

    const purged = await purgeStaleUploads(registry, new Date(Date.now() + 60_000));
    assert.deepEqual(purged, [{ repository: 'purge/me', id }]);
    const after = await s3Client(gw).send(new ListMultipartUploadsCommand({ Bucket: bucket, Prefix: 'reg/docker/registry/v2/repositories/purge/' }));
    assert.deepEqual(after.Uploads ?? [], []);
    const left = await s3Client(gw).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: `reg${layout.upload('purge/me', id)}` }));
    assert.deepEqual(left.Contents ?? [], []);
  });

  it('moves a blob above multipartcopythresholdsize with server-side part copies, below it with one CopyObject', async () => {
    const d = driver({ multipartcopythresholdsize: 5 * MiB, multipartcopychunksize: 5 * MiB });
    const big = randomBytes(12 * MiB + 123);
    await d.putContent('/mv/big', big);
    await d.putContent('/mv/small', 'small');
    const sent = commandLog(d.client);
    await d.move('/mv/big', '/mv/moved/big');
    assert.deepEqual(sent.filter((c) => c === 'UploadPartCopy').length, 2, `5 MiB + 7 MiB (the short tail merged): ${sent.join(',')}`);
    assert.ok(!sent.includes('GetObject') && !sent.includes('UploadPart'), 'no byte passes through the driver');
    assert.equal(sha(await d.getContent('/mv/moved/big')), sha(big));
    await assert.rejects(d.stat('/mv/big'), PathNotFoundError);
    sent.length = 0;
    await d.move('/mv/small', '/mv/moved/small');
    assert.ok(sent.includes('CopyObject') && !sent.includes('UploadPartCopy'), sent.join(','));
    assert.equal((await d.getContent('/mv/moved/small')).toString(), 'small');
  });

  it('presigns a GET URL the bucket honours, and the bucket refuses it once tampered with', async () => {
    const d = driver();
    const data = randomBytes(4096);
    await d.putContent('/presign/blob', data);
    const url = await d.presignedGetURL('/presign/blob', 60);
    const res = await fetch(url);
    assert.equal(res.status, 200);
    assert.deepEqual(Buffer.from(await res.arrayBuffer()), data);
    const tampered = new URL(url);
    tampered.searchParams.set('X-Amz-Signature', '0'.repeat(64));
    const bad = await fetch(tampered);
    await bad.arrayBuffer();
    assert.equal(bad.status, 403);
  });

  it('lays keys out under rootdirectory exactly as Distribution does', async () => {
    const d = driver({ rootdirectory: '/some/root/' });
    await d.putContent('/docker/registry/v2/blobs/x', 'y');
    const listed = await s3Client(gw).send(new ListObjectsV2Command({ Bucket: bucket, Prefix: 'some/root/' }));
    assert.deepEqual(listed.Contents?.map((o) => o.Key), ['some/root/docker/registry/v2/blobs/x']);
  });
});
